// Registration form: "读身份证" asks the station for the card on the reader and fills the form.
// The card's details come only from the station (GET /console/idcard/latest, never cached).
(function () {
  "use strict";
  var button = document.getElementById("read-idcard");
  if (!button) { return; }
  var status = document.getElementById("idcard-status");
  var source = button.getAttribute("data-source");

  function say(text, bad) {
    status.textContent = text;
    status.className = bad ? "form-error" : "muted";
  }

  function fill(card) {
    document.getElementById("f-name").value = card.name;
    document.getElementById("f-id_number").value = card.id_number;
    var address = document.getElementById("idcard-address");
    address.textContent = card.address;
    address.parentNode.hidden = false;
    // Tick the community the card's address names, if the station serves it.
    var boxes = document.querySelectorAll('#f-areas input[type="checkbox"]');
    Array.prototype.forEach.call(boxes, function (box) {
      if (box.value && card.address.indexOf(box.value) !== -1) { box.checked = true; }
    });
    say(button.getAttribute("data-done"), false);
  }

  button.addEventListener("click", function () {
    say(button.getAttribute("data-wait"), false);
    fetch(source, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        return response.json().then(function (body) { return { ok: response.ok, body: body }; });
      })
      .then(function (answer) {
        if (answer.ok && answer.body.card) { fill(answer.body.card); }
        else { say(answer.body.message || button.getAttribute("data-none"), true); }
      })
      .catch(function () { say(button.getAttribute("data-none"), true); });
  });
}());
