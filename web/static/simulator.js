// The simulator's phone: send without reloading, poll the thread, render with textContent only.
(function () {
  "use strict";
  var phone = document.getElementById("phone");
  if (!phone) { return; }
  var bubbles = document.getElementById("bubbles");
  var status = document.getElementById("sim-status");
  var threadUrl = phone.getAttribute("data-thread-url");
  var csrf = phone.getAttribute("data-csrf");
  var fastUntil = 0;

  function timeText(iso) {
    var d = new Date(iso);
    return isNaN(d.getTime()) ? "" : d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  function render(messages) {
    var known = {};
    Array.prototype.forEach.call(bubbles.children, function (li) { known[li.getAttribute("data-key")] = li; });
    var added = false;
    messages.forEach(function (m) {
      if (known[m.key]) { return; }
      var li = document.createElement("li");
      li.className = "bubble " + (m.direction === "in" ? "in" : "out");
      li.setAttribute("data-key", m.key);
      var text = document.createElement("span");
      text.className = "text";
      text.textContent = (m.photo ? "\uD83D\uDCF7 " : "") + m.text;
      var time = document.createElement("span");
      time.className = "time";
      time.textContent = timeText(m.at);
      li.appendChild(text);
      li.appendChild(time);
      bubbles.appendChild(li);
      added = true;
    });
    if (added) { bubbles.scrollTop = bubbles.scrollHeight; }
  }

  function poll() {
    fetch(threadUrl, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) { render(data.messages); } })
      .catch(function () { /* the next poll tries again */ })
      .finally(function () { setTimeout(poll, Date.now() < fastUntil ? 700 : 3000); });
  }

  function submit(form, clear) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var body = new FormData(form);
      status.textContent = "…";
      fetch(form.action, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: { "Accept": "application/json", "X-CSRF-Token": csrf }
      }).then(function (r) { return r.json().then(function (data) { return [r.ok, data]; }); })
        .then(function (result) {
          if (result[0]) {
            status.textContent = "";
            clear();
            fastUntil = Date.now() + 20000;
          } else {
            status.textContent = result[1].error || "error";
          }
        })
        .catch(function () { status.textContent = "error"; });
    });
  }

  var sms = document.getElementById("sms-form");
  var text = document.getElementById("sms-text");
  submit(sms, function () { text.value = ""; text.focus(); });
  text.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); sms.requestSubmit(); }
  });
  var photo = document.getElementById("photo-form");
  submit(photo, function () { photo.reset(); });
  bubbles.scrollTop = bubbles.scrollHeight;
  poll();
})();
