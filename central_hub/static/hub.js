// Keeps "3 分钟前" current while a page stays open. It counts from the hub's clock at render
// time (body[data-now]) plus the time the page has been open, never from the browser's clock.
(function () {
  var now = Date.parse(document.body.getAttribute("data-now") || "");
  if (isNaN(now)) { return; }
  var opened = Date.now();
  var en = document.documentElement.lang === "en";
  function words(seconds) {
    var units = [[86400, "天", "day"], [3600, "小时", "hour"], [60, "分钟", "minute"]];
    for (var i = 0; i < units.length; i++) {
      if (seconds >= units[i][0]) {
        var n = Math.floor(seconds / units[i][0]);
        return en ? n + " " + units[i][2] + (n > 1 ? "s" : "") + " ago" : n + " " + units[i][1] + "前";
      }
    }
    return en ? "just now" : "刚刚";
  }
  function refresh() {
    var current = now + (Date.now() - opened);
    document.querySelectorAll("time[data-ago]").forEach(function (el) {
      var at = Date.parse(el.getAttribute("datetime"));
      if (!isNaN(at)) { el.textContent = words(Math.floor((current - at) / 1000)); }
    });
  }
  setInterval(refresh, 30000);
})();
