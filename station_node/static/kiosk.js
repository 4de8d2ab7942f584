// Kiosk screen: the on-screen keypad, the "large text / read aloud" switches, and the attract
// screen. A kiosk is shared: after a minute untouched the screen clears to the attract screen
// and the resident is signed out, so the next person never sees their name or their words.
(function () {
  "use strict";
  var attract = document.getElementById("attract");
  var idleMs = Number((attract && attract.getAttribute("data-idle-seconds")) || 60) * 1000;
  var timer = null;

  function clearScreen() {
    var main = document.getElementById("main");
    if (main) { main.innerHTML = ""; }
    Array.prototype.forEach.call(document.querySelectorAll(".top .who"), function (n) {
      n.remove();
    });
    if (window.speechSynthesis) { window.speechSynthesis.cancel(); }
    var signout = document.getElementById("signout");
    if (signout && window.fetch) {
      fetch(signout.action, { method: "POST", body: new FormData(signout), credentials: "same-origin" })
        .catch(function () { /* the session's own idle limit signs them out anyway */ });
      signout.remove();
    }
    if (attract) { attract.hidden = false; }
  }

  function touched() {
    if (attract && !attract.hidden) { return; }
    if (timer !== null) { window.clearTimeout(timer); }
    timer = window.setTimeout(clearScreen, idleMs);
  }
  ["pointerdown", "keydown", "touchstart", "input", "scroll"].forEach(function (kind) {
    document.addEventListener(kind, touched, { passive: true, capture: true });
  });
  if (attract && attract.hidden) { touched(); }

  // Keypad: its keys type into the ID number or mobile field, whichever was last chosen.
  var target = document.querySelector("[data-keypad]");
  Array.prototype.forEach.call(document.querySelectorAll("[data-keypad]"), function (field) {
    field.addEventListener("focus", function () { target = field; });
  });
  Array.prototype.forEach.call(document.querySelectorAll(".keypad [data-key]"), function (key) {
    key.addEventListener("click", function () {
      if (!target) { return; }
      var k = key.getAttribute("data-key");
      if (k === "back") {
        target.value = target.value.slice(0, -1);
      } else if (target.value.length < Number(target.getAttribute("maxlength") || 20)) {
        target.value += k;
      }
      if (target.id === "f-id_number" && target.value.length === 18) {
        var next = document.getElementById("f-mobile");
        if (next) { target = next; }
      }
    });
  });

  // Large text: remembered on this kiosk until someone switches it off.
  var large = document.getElementById("large-text");
  function setLarge(on) {
    document.body.classList.toggle("large", on);
    if (large) { large.setAttribute("aria-pressed", on ? "true" : "false"); }
    try { window.localStorage.setItem("kiosk-large", on ? "1" : ""); } catch (e) { /* private */ }
  }
  var remembered = "";
  try { remembered = window.localStorage.getItem("kiosk-large") || ""; } catch (e) { /* none */ }
  setLarge(remembered === "1");
  if (large) {
    large.addEventListener("click", function () {
      setLarge(!document.body.classList.contains("large"));
    });
  }

  // Read aloud: the page's heading, then its messages and the first cards, in a Chinese voice
  // when the browser has one.
  var aloud = document.getElementById("read-aloud");
  function speakPage() {
    var synth = window.speechSynthesis;
    if (!synth || !window.SpeechSynthesisUtterance) { return ""; }
    var parts = [];
    var pick = "main h1, main .flash, main .form-error, main .card h2, main .card h3," +
      " main .card .pay, main .card .when, main .card .grabbed, main .countdown, .kiosk-hotline";
    Array.prototype.forEach.call(document.querySelectorAll(pick), function (node) {
      if (parts.length < 24 && node.textContent.trim()) { parts.push(node.textContent.trim()); }
    });
    var text = parts.join("。");
    var said = new window.SpeechSynthesisUtterance(text);
    said.lang = document.documentElement.lang || "zh-CN";
    var voices = synth.getVoices ? synth.getVoices() : [];
    for (var i = 0; i < voices.length; i += 1) {
      if (/^zh/i.test(voices[i].lang)) { said.voice = voices[i]; break; }
    }
    synth.cancel();
    synth.speak(said);
    return text;
  }
  if (aloud) {
    aloud.addEventListener("click", function () {
      var on = aloud.getAttribute("aria-pressed") !== "true";
      aloud.setAttribute("aria-pressed", on ? "true" : "false");
      if (on) {
        document.body.setAttribute("data-spoken", speakPage());
      } else if (window.speechSynthesis) {
        window.speechSynthesis.cancel();
      }
    });
  }

  // Back from signing in to the job the resident tapped: show it, and give it focus.
  if (window.location.hash.indexOf("#job-") === 0) {
    var card = document.getElementById(window.location.hash.slice(1));
    if (card) { card.classList.add("tapped"); card.focus(); }
  }
}());
