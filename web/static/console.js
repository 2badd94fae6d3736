// Console: the SMS length of a reply as the officer will receive it (prefix included), in
// GSM-7 septets or, once a character is outside GSM-7, UTF-16 units (bots/sms.py counts the
// same way); Ctrl+Enter sends the reply; "/" jumps to the queue's search box; a canned reply
// goes into the reply box (editable before sending); single-key shortcuts (j/k rows, or on a
// ticket the next/previous one in the queue; c claim, r reply, i canned, u back to the list,
// Esc leaves a text box), listed on each page; the lists refresh themselves (conditional
// requests; paused while the operator types).
(function () {
  "use strict";
  var BASIC = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  var EXTENDED = "^{}\\[~]|€\f";

  function smsLength(text) {
    var septets = 0;
    for (var i = 0; i < text.length; i++) {
      var c = text.charAt(i);
      if (BASIC.indexOf(c) >= 0) { septets += 1; }
      else if (EXTENDED.indexOf(c) >= 0) { septets += 2; }
      else { return { units: text.length, gsm: false }; }  // UTF-16 code units
    }
    return { units: septets, gsm: true };
  }

  function segments(size) {
    var single = size.gsm ? 160 : 70, part = size.gsm ? 153 : 67;
    return size.units <= single ? 1 : Math.ceil(size.units / part);
  }

  var body = document.getElementById("reply-body");
  var counter = document.getElementById("sms-count");
  if (body && counter) {
    var prefix = body.getAttribute("data-prefix") || "";
    var update = function () {
      var size = smsLength(prefix + body.value);
      var text = counter.getAttribute("data-label-sms")
        .replace("{n}", String(size.units)).replace("{s}", String(segments(size)));
      if (!size.gsm) { text += " · " + counter.getAttribute("data-label-unicode"); }
      counter.textContent = text;
    };
    body.addEventListener("input", update);
    update();
    body.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && body.value.trim()) {
        event.preventDefault();
        body.form.requestSubmit ? body.form.requestSubmit() : body.form.submit();
      }
    });
  }

  // A canned reply, in the officer's language, at the cursor (the server pre-fills the box
  // the same way when scripts are off: ?canned=<id>).
  var cannedForm = document.getElementById("canned-form");
  var canned = document.getElementById("canned");
  if (cannedForm && canned && body) {
    cannedForm.addEventListener("submit", function (event) {
      event.preventDefault();
      var option = canned.options[canned.selectedIndex];
      var text = option ? option.getAttribute("data-body") || "" : "";
      var start = body.selectionStart, end = body.selectionEnd, value = body.value;
      if (!value.trim()) { body.value = text; start = 0; end = 0; }
      else {
        var before = value.slice(0, start), after = value.slice(end);
        var gap = before && !/\s$/.test(before) ? " " : "";
        body.value = before + gap + text + after;
        start = before.length + gap.length;
      }
      var caret = start + text.length;
      body.focus();
      body.setSelectionRange(caret, caret);
      body.dispatchEvent(new Event("input", { bubbles: true }));
    });
  }

  var lastKey = 0;
  function typing(target) {
    return /^(INPUT|TEXTAREA|SELECT)$/.test((target || {}).tagName || "") ||
      !!(target && target.isContentEditable);
  }

  // j/k: the next/previous row of the page's list; its link takes the focus (Enter opens it).
  var current = -1;
  function rows() {
    var table = document.querySelector("table[data-rows]");
    if (!table) { return []; }
    return Array.prototype.filter.call(table.querySelectorAll("tbody tr"), function (row) {
      return row.querySelector("a");
    });
  }
  function select(step) {
    var list = rows();
    if (!list.length) { return; }
    if (current >= 0 && current < list.length) { list[current].classList.remove("current"); }
    current = Math.min(Math.max(current + step, 0), list.length - 1);
    list[current].classList.add("current");
    list[current].querySelector("a").focus();
  }
  function click(id) {
    var element = document.getElementById(id);
    if (!element) { return false; }
    if (element.tagName === "FORM") {
      element.requestSubmit ? element.requestSubmit() : element.submit();
    } else if (element.tagName === "A") { element.click(); } else { element.focus(); }
    return true;
  }

  document.addEventListener("keydown", function (event) {
    lastKey = Date.now();
    if (event.key === "Escape" && typing(event.target)) { event.target.blur(); return; }
    if (typing(event.target) || event.ctrlKey || event.metaKey || event.altKey) { return; }
    var search = document.getElementById("f-q");
    var done = false;
    if (event.key === "/" && search) { search.focus(); done = true; }
    else if (event.key === "j") { done = rows().length ? (select(1), true) : click("next-ticket"); }
    else if (event.key === "k") { done = rows().length ? (select(-1), true) : click("prev-ticket"); }
    else if (event.key === "c") { done = click("claim-form"); }
    else if (event.key === "r") { done = click("reply-body"); }
    else if (event.key === "i") { done = click("canned"); }
    else if (event.key === "u") { done = click("back-list"); }
    if (done) { event.preventDefault(); }
  });

  // The list refreshes itself: a conditional request every data-poll-seconds while the tab is
  // visible and the operator is not typing; a 304 costs nothing, new HTML replaces #live.
  var live = document.getElementById("live");
  var seconds = live ? parseInt(live.getAttribute("data-poll-seconds"), 10) : 0;
  if (live && seconds > 0 && window.fetch && window.DOMParser) {
    var etag = null;
    var poll = function () {
      if (document.visibilityState !== "visible") { return; }
      if (typing(document.activeElement) || Date.now() - lastKey < 5000) { return; }
      var headers = etag ? { "If-None-Match": etag } : {};
      fetch(window.location.href, { headers: headers, cache: "no-store", credentials: "same-origin" })
        .then(function (response) {
          if (response.status !== 200) { return null; }
          etag = response.headers.get("ETag");
          return response.text();
        })
        .then(function (html) {
          if (!html || typing(document.activeElement)) { return; }
          var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("live");
          if (fresh && fresh.innerHTML !== live.innerHTML) {
            live.innerHTML = fresh.innerHTML;
            current = -1;
            document.body.setAttribute("data-refreshed", String(Date.now()));
          }
        })
        .catch(function () { /* offline for a moment: the next poll tries again */ });
    };
    window.setInterval(poll, seconds * 1000);
  }
}());
