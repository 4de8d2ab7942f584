// The station's wall screen. Nobody touches it, so it must look after itself: it follows the
// station's event stream and redraws the jobs in place (never a page reload: a reload while the
// station is down would leave the browser's error page up for good), keeps the last jobs up with
// a small mark while the station cannot be reached, and turns pages when the jobs do not fit.
// No libraries, no network beyond the station.
(function () {
  "use strict";
  var PAGE_MS = 8000;     // long enough to read a page from across the room
  var SLIDE_MS = 10000;   // the rules and the fraud warning take turns
  var PROBE_MS = 2000;    // how often the station is asked whether it is there
  var jobs = document.getElementById("board-jobs");
  var clockNode = document.getElementById("board-clock");
  var conn = document.getElementById("board-conn");
  var pageNode = document.getElementById("board-page");
  if (!jobs) { return; }

  // The station's clock, not the screen's: the screen's own may be wrong or in another zone.
  var skew = 0;
  var offsetMinutes = Number(clockNode.getAttribute("data-offset-minutes")) || 0;
  var english = clockNode.getAttribute("data-lang") === "en";
  var WEEK_ZH = ["周日", "周一", "周二", "周三", "周四", "周五", "周六"];
  var WEEK_EN = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
  var MONTH_EN = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  function two(n) { return (n < 10 ? "0" : "") + n; }
  function takeTime() {
    var cards = jobs.querySelector("[data-now-ms]");
    if (cards) { skew = Number(cards.getAttribute("data-now-ms")) - Date.now(); }
  }
  function tick() {
    var t = new Date(Date.now() + skew + offsetMinutes * 60000);
    var hm = two(t.getUTCHours()) + ":" + two(t.getUTCMinutes());
    clockNode.textContent = english
      ? WEEK_EN[t.getUTCDay()] + " " + MONTH_EN[t.getUTCMonth()] + " " + t.getUTCDate() + " " + hm
      : (t.getUTCMonth() + 1) + "月" + t.getUTCDate() + "日 " + WEEK_ZH[t.getUTCDay()] + " " + hm;
  }

  // Pages: the cards are laid out one by one until the next would spill out of the area, and
  // that one starts the next page. A card taller than the whole area still gets a page.
  var page = 0, pages = 1;
  function cards() { return Array.prototype.slice.call(jobs.querySelectorAll(".board-job")); }
  function paginate() {
    var list = cards();
    var bottom = jobs.getBoundingClientRect().bottom;
    var n = 0, onPage = 0;
    list.forEach(function (card) { card.hidden = true; });
    list.forEach(function (card) {
      card.hidden = false;
      if (onPage > 0 && card.getBoundingClientRect().bottom > bottom + 0.5) {
        list.forEach(function (c) { if (c.getAttribute("data-page") === String(n)) { c.hidden = true; } });
        n += 1;
        onPage = 0;
      }
      card.setAttribute("data-page", String(n));
      onPage += 1;
    });
    pages = n + 1;
    if (page >= pages) { page = 0; }
    show();
  }
  function show() {
    cards().forEach(function (card) { card.hidden = card.getAttribute("data-page") !== String(page); });
    var count = cards().length;
    pageNode.textContent = count === 0 ? "" : pageNode.getAttribute("data-label")
      .replace("PAGES", String(pages)).replace("PAGE", String(page + 1)).replace("COUNT", String(count));
  }
  function turn() {
    if (pages > 1) { page = (page + 1) % pages; show(); }
  }

  var slides = Array.prototype.slice.call(document.querySelectorAll(".board-slide"));
  var slide = 0;
  function showSlide() { slides.forEach(function (s, i) { s.hidden = i !== slide; }); }
  function nextSlide() { slide = (slide + 1) % slides.length; showSlide(); }

  function reachable(yes) { conn.hidden = yes; }

  var fragment = jobs.getAttribute("data-live-fragment");
  var busy = false, again = false;
  function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    fetch(fragment, { credentials: "same-origin", cache: "no-store", headers: { "X-Live": "1" } })
      .then(function (res) { if (!res.ok) { throw new Error(String(res.status)); } return res.text(); })
      .then(function (html) {
        jobs.innerHTML = html;
        takeTime();
        paginate();
        tick();
      })
      .catch(function () { reachable(false); })
      .finally(function () {
        busy = false;
        if (again) { again = false; refresh(); }
      });
  }

  // The stream: every change is redrawn at once. The station is asked every few seconds whether
  // it is there (a stream can look open long after the station went away): while it is not,
  // the mark shows and the last jobs stay; when it answers again, one redraw catches up and a
  // fresh stream is opened.
  var KINDS = ["job", "offer", "offer_closed", "booked", "booking_cancelled"];
  var health = jobs.getAttribute("data-health");
  var source = null, connects = 0;
  function connect() {
    var url = "/api/v1/events?topics=" + encodeURIComponent(jobs.getAttribute("data-live-topics"));
    var lastId = jobs.getAttribute("data-live-last-id");
    if (connects === 0 && lastId) { url += "&last_event_id=" + encodeURIComponent(lastId); }
    var mine = new EventSource(url);
    var catchUp = connects > 0;  // a new stream after an outage: what changed meanwhile
    connects += 1;
    source = mine;
    KINDS.forEach(function (kind) { mine.addEventListener(kind, refresh); });
    mine.addEventListener("reload", refresh);  // events were missed: one redraw catches up
    mine.addEventListener("open", function () {
      if (catchUp) { catchUp = false; refresh(); }
      reachable(true);
      document.documentElement.setAttribute("data-live", "on");  // as live.js marks its pages
    });
    mine.addEventListener("error", function () {
      if (mine.readyState === EventSource.CLOSED && source === mine) { source = null; }
    });
  }
  function away() {
    reachable(false);
    if (source) { source.close(); source = null; }
  }
  function probe() {
    fetch(health, { cache: "no-store" })
      .then(function (res) {
        if (!res.ok) { away(); return; }
        if (!conn.hidden) { reachable(true); refresh(); }
        if (source === null && window.EventSource) { connect(); }
      })
      .catch(away);
  }

  takeTime();
  tick();
  paginate();
  showSlide();
  window.setInterval(tick, 1000);
  window.setInterval(turn, PAGE_MS);
  window.setInterval(nextSlide, SLIDE_MS);
  window.setInterval(probe, PROBE_MS);
  window.addEventListener("resize", paginate);
  if (window.EventSource) { connect(); } else { window.setInterval(refresh, 5000); }
}());
