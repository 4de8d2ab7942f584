// Live pages: follow the station's event stream and redraw a part of the page when it changes.
// No libraries, no network beyond the station. A container names what it follows:
//   data-live-topics="board,worker"  the event topics (see /api/v1/events)
//   data-live-fragment="/m/?fragment=1"  where its fresh HTML comes from
//   data-live-last-id="123"  the newest event when the page was made (nothing in between is lost)
//   data-live-signin="/m/signin"  where to go when the sign-in ran out (optional)
// Inside it, forms with data-tap are sent with fetch (one tap, answer shown in #live-status),
// and elements with data-seconds-left count down and close their buttons at zero.
(function () {
  "use strict";
  var root = document.querySelector("[data-live-topics]");
  var status = document.getElementById("live-status");
  var KINDS = ["job", "offer", "offer_closed", "booked", "booking_cancelled", "screen"];

  function say(text, ok) {
    if (!status) { return; }
    status.textContent = text || "";
    status.className = "live-status " + (ok ? "ok" : "error");
  }

  var stamped = 0;
  function countdowns() {
    var nodes = document.querySelectorAll("[data-seconds-left]");
    var gone = (performance.now() - stamped) / 1000;
    Array.prototype.forEach.call(nodes, function (node) {
      var left = Math.max(0, Math.ceil(Number(node.getAttribute("data-seconds-left")) - gone));
      var shown = node.querySelector(".seconds");
      if (shown) { shown.textContent = String(left); }
      if (left === 0 && !node.classList.contains("expired")) {
        node.classList.add("expired");
        Array.prototype.forEach.call(node.querySelectorAll("button"), function (b) { b.disabled = true; });
      }
    });
  }

  if (!root) { return; }
  var fragment = root.getAttribute("data-live-fragment");
  var busy = false, again = false;

  function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    fetch(fragment, { credentials: "same-origin", headers: { "X-Live": "1" } })
      .then(function (res) {
        if (res.status === 401 || res.redirected) { window.location.reload(); return null; }
        if (!res.ok) { throw new Error(String(res.status)); }
        return res.text();
      })
      .then(function (html) {
        if (html === null) { return; }
        root.innerHTML = html;
        stamped = performance.now();
        countdowns();
      })
      .catch(function () { /* the stream's next event or the fallback beat tries again */ })
      .finally(function () {
        busy = false;
        if (again) { again = false; refresh(); }
      });
  }

  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (!form.hasAttribute || !form.hasAttribute("data-tap") || !window.fetch) { return; }
    ev.preventDefault();
    Array.prototype.forEach.call(form.querySelectorAll("button"), function (b) { b.disabled = true; });
    fetch(form.action, {
      method: "POST", body: new FormData(form), credentials: "same-origin",
      headers: { "Accept": "application/json" }
    })
      .then(function (res) {
        if (res.status === 401 && root.getAttribute("data-live-signin")) {
          window.location.href = root.getAttribute("data-live-signin");
          return null;
        }
        return res.json();
      })
      .then(function (body) { if (body) { say(body.message, body.ok); } })
      .catch(function () { say(root.getAttribute("data-offline") || "…", false); })
      .finally(refresh);
  });

  var topics = root.getAttribute("data-live-topics");
  var lastId = root.getAttribute("data-live-last-id");
  var url = "/api/v1/events?topics=" + encodeURIComponent(topics) +
    (lastId ? "&last_event_id=" + encodeURIComponent(lastId) : "");
  var beat = null;
  function fallback() {
    // No stream (an old browser, or the station refused it): redraw every few seconds instead.
    if (beat === null) { beat = window.setInterval(refresh, 5000); }
  }
  if (!window.EventSource) {
    fallback();
  } else {
    var source = new EventSource(url);
    KINDS.forEach(function (kind) { source.addEventListener(kind, refresh); });
    source.addEventListener("reload", function () { window.location.reload(); });
    source.addEventListener("open", function () {
      if (beat !== null) { window.clearInterval(beat); beat = null; refresh(); }
      document.documentElement.setAttribute("data-live", "on");
    });
    source.addEventListener("error", function () {
      if (source.readyState === EventSource.CLOSED) { fallback(); }
    });
  }
  stamped = performance.now();
  countdowns();
  window.setInterval(countdowns, 250);
}());
