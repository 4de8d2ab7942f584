// A paired kiosk or board screen follows its own topic (screen:<device id>, named on this
// script's tag). When staff revoke the screen on the console the station says so on that topic,
// and the page reloads at once: the station then shows why this screen no longer gets its pages.
// If the stream is refused (revoked while it was reconnecting), the page asks /screens/check.
(function () {
  "use strict";
  var me = document.currentScript;
  var topic = me && me.getAttribute("data-topic");
  var kind = me && me.getAttribute("data-kind");
  if (!topic || !kind || !window.EventSource || !window.fetch) { return; }
  var RETRY_MS = 5000;
  var url = "/api/v1/events?topics=" + encodeURIComponent(topic);
  var checkUrl = "/screens/check?kind=" + encodeURIComponent(kind);

  // 403: this screen may no longer show the page (reload into the refusal); 204: it may.
  function check(then) {
    fetch(checkUrl, { credentials: "same-origin", cache: "no-store" })
      .then(function (res) {
        if (res.status === 403) { window.location.reload(); return; }
        if (then) { then(); }
      })
      .catch(function () { window.setTimeout(function () { check(then); }, RETRY_MS); });
  }

  function follow() {
    var source = new EventSource(url);
    source.addEventListener("revoked", function () {
      source.close();
      window.location.reload();
    });
    source.addEventListener("reload", function () { check(null); });  // events were missed
    source.addEventListener("open", function () {
      document.documentElement.setAttribute("data-screen-live", "on");
    });
    source.addEventListener("error", function () {
      if (source.readyState === EventSource.CLOSED) {  // refused: no more reconnecting by itself
        window.setTimeout(function () { check(follow); }, 1000);
      }
    });
  }
  follow();
}());
