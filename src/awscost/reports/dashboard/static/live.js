// The live usage page: the server says when a new hour was collected (server-sent events from one poller of
// the store for every client); the page then fetches itself and swaps the #live part. No reload, no polling.
"use strict";
(function () {
  var live = document.getElementById("live");
  if (!live || !window.EventSource) { return; }
  var shown = document.getElementById("last-hour");
  var source = new EventSource(live.getAttribute("data-events"));
  source.addEventListener("hour", function (event) {
    // The first event names the hour this page already shows: no fetch for it (nor for a repeat).
    if (event.data === live.getAttribute("data-hour")) { return; }
    fetch(window.location.href, { credentials: "same-origin" })
      .then(function (response) { return response.text(); })
      .then(function (text) {
        var fresh = new DOMParser().parseFromString(text, "text/html").getElementById("live");
        if (!fresh) { return; }
        var before = shown ? shown.textContent : "";
        live.replaceWith(fresh);
        live = fresh;
        shown = document.getElementById("last-hour");
        if (shown && shown.textContent !== before) { live.setAttribute("data-updated", shown.textContent); }
      });
  });
})();
