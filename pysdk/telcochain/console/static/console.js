// telcochain console: live updates without reload. The server sends an `index` event (the
// index's checkpoint block) whenever the index moves on; the page then fetches itself again
// and swaps the content of #live. No library, no network beyond this console.
(function () {
  "use strict";
  var live = document.getElementById("live");
  var url = document.body.getAttribute("data-events");
  if (!live || !url || !window.EventSource) return;
  var shown = document.body.getAttribute("data-block");
  var busy = false, again = false;
  var status = document.getElementById("live-status");

  function editing() {
    var el = document.activeElement;
    return el && live.contains(el) && /^(INPUT|SELECT|TEXTAREA)$/.test(el.tagName);
  }

  function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    fetch(window.location.href, { credentials: "same-origin", headers: { "X-Console-Live": "1" } })
      .then(function (r) {
        if (!r.ok || r.redirected) throw new Error("status " + r.status);
        return r.text();
      })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.getElementById("live");
        if (fresh && !editing() && fresh.innerHTML !== live.innerHTML) live.innerHTML = fresh.innerHTML;
        var block = doc.getElementById("block"), mine = document.getElementById("block");
        if (block && mine) mine.textContent = block.textContent;
      })
      .catch(function () { if (status) status.textContent = "live updates paused"; })
      .then(function () {
        busy = false;
        if (again) { again = false; refresh(); }
      });
  }

  var source = new EventSource(url);
  source.addEventListener("index", function (event) {
    if (status) status.textContent = "live";
    if (event.data !== shown) { shown = event.data; refresh(); }
  });
  source.onerror = function () { if (status) status.textContent = "reconnecting…"; };
})();
