// Job form: find the employer as staff type, fill what the station knows about them, offer
// their last jobs to repeat, and pick the usual pay unit for a category (no libraries).
(function () {
  "use strict";
  var box = document.getElementById("employer-find");
  var form = document.getElementById("job-form");
  if (!box || !form) { return; }
  var input = document.getElementById("employer-q");
  var list = document.getElementById("employer-found");
  var labels = JSON.parse(box.getAttribute("data-labels"));
  var payUnits = JSON.parse(box.getAttribute("data-pay-units"));
  var source = box.getAttribute("data-source");
  var repeatUrl = box.getAttribute("data-repeat-url");
  var timer = null;
  var asked = 0;

  function field(name) { return form.elements.namedItem(name); }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function use(employer) {
    var select = field("employer_id");
    if (select) { select.value = employer.id; }
    if (employer.address && field("address")) { field("address").value = employer.address; }
    if (employer.community && field("community")) { field("community").value = employer.community; }
    input.value = employer.name;
    list.replaceChildren();
    var title = field("title");
    if (title) { title.focus(); }
  }

  function draw(employers) {
    var frag = document.createDocumentFragment();
    if (employers.length === 0) { frag.appendChild(el("li", "muted", labels.none)); }
    employers.forEach(function (e) {
      var li = el("li", "employer");
      var pick = el("button", "link employer-name", e.name + "（" + e.contact + " " + e.mobile + "）");
      pick.type = "button";
      if (e.blocked) {
        pick.disabled = true;
        li.appendChild(pick);
        li.appendChild(el("span", "tag alert", labels.blocked));
      } else {
        pick.addEventListener("click", function () { use(e); });
        li.appendChild(pick);
        e.jobs.forEach(function (j) {
          var again = el("a", "button repeat", labels.repeat + "：" + j.text);
          again.href = repeatUrl + "?repeat=" + encodeURIComponent(j.id);
          li.appendChild(again);
        });
      }
      frag.appendChild(li);
    });
    list.replaceChildren(frag);
  }

  function search() {
    var q = input.value.trim();
    var mine = ++asked;
    if (!q) { list.replaceChildren(); return; }
    fetch(source + "?q=" + encodeURIComponent(q), {
      credentials: "same-origin", headers: { "Accept": "application/json" }
    })
      .then(function (res) { if (!res.ok) { throw new Error(res.status); } return res.json(); })
      .then(function (data) { if (mine === asked) { draw(data.employers || []); } })
      .catch(function () { /* the select below still works */ });
  }

  input.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(search, 120);
  });
  input.addEventListener("keydown", function (ev) {
    if (ev.key !== "Enter") { return; }
    ev.preventDefault();
    var first = list.querySelector("a.repeat, button.employer-name:not([disabled])");
    if (first) { first.click(); }
  });

  var unit = field("pay_unit");
  var unitTouched = false;
  if (unit) { unit.addEventListener("change", function () { unitTouched = true; }); }
  var category = field("category");
  if (category && unit) {
    category.addEventListener("change", function () {
      if (!unitTouched && payUnits[category.value]) { unit.value = payUnits[category.value]; }
    });
  }
}());
