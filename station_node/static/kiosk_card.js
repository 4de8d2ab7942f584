// Kiosk sign-in: ask the station every second whether this kiosk's ID card reader has a card,
// then sign in with that read. The page never sees the card's details, only the read's number.
(function () {
  "use strict";
  var root = document.getElementById("card-signin");
  if (!root) { return; }
  var form = document.getElementById("card-form");
  var message = document.getElementById("card-message");
  var source = root.getAttribute("data-source");
  var sent = false;

  function check() {
    if (sent) { return; }
    fetch(source, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) { return response.json(); })
      .then(function (body) {
        if (body.state === "card") {
          sent = true;
          form.elements.read.value = body.read;
          form.submit();
        } else if (body.state === "refused") {
          message.textContent = body.message;
          message.hidden = false;
        } else if (body.state === "signed_in") {
          window.location.assign(root.getAttribute("data-mine"));
        }
      })
      .catch(function () { /* the station is busy or restarting: ask again next second */ });
  }
  window.setInterval(check, 1000);
}());
