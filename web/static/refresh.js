// Public pages: look for new figures every data-refresh-seconds while the tab is visible.
// A conditional request (If-None-Match) costs a 304 when nothing changed; new figures
// replace <main> in place (no reload, the reader keeps their scroll position).
(function () {
  "use strict";
  var seconds = parseInt(document.body.getAttribute("data-refresh-seconds"), 10);
  if (!(seconds > 0) || !window.fetch || !window.DOMParser) { return; }
  var etag = null;
  // What the server sent, not the live DOM: scripts (the photo viewer) change the page.
  var shown = document.querySelector("main") ? document.querySelector("main").innerHTML : "";
  function poll() {
    if (document.visibilityState !== "visible") { return; }
    var headers = etag ? { "If-None-Match": etag } : {};
    fetch(window.location.href, { headers: headers, cache: "no-cache", credentials: "same-origin" })
      .then(function (response) {
        if (response.status !== 200) { return null; }
        etag = response.headers.get("ETag");
        return response.text();
      })
      .then(function (html) {
        if (!html) { return; }
        var page = new DOMParser().parseFromString(html, "text/html");
        var fresh = page.querySelector("main");
        var main = document.querySelector("main");
        // The audit head in the footer (left out of the ETag): the newer one with new figures.
        var head = page.querySelector("footer.audit-head");
        var footer = document.querySelector("footer.audit-head");
        if (head && footer) { footer.innerHTML = head.innerHTML; }
        if (fresh && main && fresh.innerHTML !== shown) {
          shown = fresh.innerHTML;
          main.innerHTML = fresh.innerHTML;
          document.body.setAttribute("data-refreshed", String(Date.now()));
          document.dispatchEvent(new CustomEvent("relay:refreshed"));
        }
      })
      .catch(function () { /* offline for a moment: the next poll tries again */ });
  }
  window.setInterval(poll, seconds * 1000);
  document.addEventListener("visibilitychange", poll);
}());
