// Live dispatch board: fetch the board rows every second and redraw them (no libraries).
(function () {
  "use strict";
  var root = document.getElementById("board");
  if (!root) { return; }
  var labels = JSON.parse(root.getAttribute("data-labels"));
  var source = root.getAttribute("data-source");
  var jobUrl = root.getAttribute("data-job-url");
  var status = document.getElementById("board-status");

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  // Seconds as staff read them, matching the page's first draw: "45秒", "2分15秒".
  function duration(total) {
    var s = Math.max(0, Math.round(total || 0));
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    if (labels.lang === "en") {
      return h ? h + " h " + m + " min" : (m ? m + " min " + r + " s" : r + " s");
    }
    return h ? h + "小时" + m + "分" : (m ? m + "分" + r + "秒" : r + "秒");
  }

  function people(list, cls, withSeconds) {
    var span = el("span");
    if (!list || list.length === 0) { span.textContent = "—"; return span; }
    list.forEach(function (p) {
      var text = p.name + (withSeconds && p.seconds_left !== undefined ? " (" + duration(p.seconds_left) + ")" : "");
      span.appendChild(el("span", "person " + cls, text));
    });
    return span;
  }

  function row(r) {
    var open = r.status !== "filled";
    var art = el("article", "board-row" + (r.needs_staff ? " overdue" : "") +
      (r.dispatching ? " dispatching" : "") + (open ? "" : " filled"));
    art.setAttribute("data-job", r.job_id);
    var head = el("header");
    var h2 = el("h2");
    var link = el("a", null, r.title);
    link.href = jobUrl.replace("JOB", r.job_id);
    h2.appendChild(link);
    head.appendChild(h2);
    head.appendChild(el("span", "community", r.community));
    head.appendChild(el("span", "mode", labels[r.mode] || r.mode));
    head.appendChild(el("span", "count", r.confirmed_count + "/" + r.headcount));
    head.appendChild(el("span", "timer", duration(r.seconds_since_start)));
    if (r.needs_staff) { head.appendChild(el("strong", "tag alert", labels.escalated)); }
    else if (r.dispatching) { head.appendChild(el("strong", "tag open", labels.dispatching)); }
    else if (open) { head.appendChild(el("span", "tag", labels.waiting)); }
    art.appendChild(head);
    var p = el("p");
    p.appendChild(document.createTextNode(labels.offered + "："));
    p.appendChild(people(r.offered, "offered", true));
    p.appendChild(document.createTextNode(" · " + labels.declined + "："));
    p.appendChild(people((r.declined || []).concat(r.expired || []), "declined", false));
    p.appendChild(document.createTextNode(" · " + labels.confirmed + "："));
    p.appendChild(people(r.confirmed, "confirmed", false));
    art.appendChild(p);
    if (open) {
      var assign = el("a", "button", labels.assign);
      assign.href = link.href + "#ranking";
      art.appendChild(assign);
    }
    return art;
  }

  function draw(rows) {
    var frag = document.createDocumentFragment();
    if (rows.length === 0) { frag.appendChild(el("p", "panel empty", labels.empty)); }
    rows.forEach(function (r) { frag.appendChild(row(r)); });
    root.replaceChildren(frag);
    status.textContent = labels.updated + " " + new Date().toLocaleTimeString();
  }

  // The timers on each row tick every second; a change (an offer made, answered, a grab) is
  // redrawn at once from the station's event stream instead of waiting for the next tick.
  var timer = null, busy = false, again = false;
  function schedule(delay) {
    if (busy) { again = true; return; }
    if (timer !== null) { window.clearTimeout(timer); }
    timer = window.setTimeout(refresh, delay);
  }
  function refresh() {
    timer = null;
    busy = true;
    fetch(source, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (res) { if (!res.ok) { throw new Error(res.status); } return res.json(); })
      .then(function (data) { draw(data.rows || []); })
      .catch(function () { status.textContent = labels.offline; })
      .finally(function () {
        busy = false;
        schedule(again ? 0 : 1000);
        again = false;
      });
  }
  if (window.EventSource) {
    var stream = new EventSource("/api/v1/events?topics=staff");
    ["job", "offer", "offer_closed", "booked", "booking_cancelled"].forEach(function (kind) {
      stream.addEventListener(kind, function () { schedule(0); });
    });
  }
  schedule(1000);
}());
