// The simulator's phone: choose the channel it previews (SMS, Telegram, WhatsApp), send
// without reloading, press Telegram's inline buttons, count SMS segments, reset the training
// contact, poll the thread. Rendered with textContent only (no HTML from messages).
(function () {
  "use strict";
  var phone = document.getElementById("phone");
  if (!phone) { return; }
  phone.classList.add("js");
  var bubbles = document.getElementById("bubbles");
  var status = document.getElementById("sim-status");
  var threadUrl = phone.getAttribute("data-thread-url");
  var pressUrl = phone.getAttribute("data-press-url");
  var csrf = phone.getAttribute("data-csrf");
  var number = phone.getAttribute("data-phone");
  var fastUntil = 0;
  var lastThread = null;
  var stick = true;  // the thread follows new messages while the reader is at its end

  // bots/sms.py: GSM-7 (160 in one SMS, 153 a part) or UCS-2 (70, 67 a part).
  var GSM7 = "@\u00a3$\u00a5\u00e8\u00e9\u00f9\u00ec\u00f2\u00c7\n\u00d8\u00f8\r\u00c5\u00e5\u0394_\u03a6\u0393\u039b\u03a9\u03a0\u03a8\u03a3\u0398\u039e\u00c6\u00e6\u00df\u00c9 !\"#\u00a4%&'()*+,-./0123456789:;<=>?" +
    "\u00a1ABCDEFGHIJKLMNOPQRSTUVWXYZ\u00c4\u00d6\u00d1\u00dc\u00a7\u00bfabcdefghijklmnopqrstuvwxyz\u00e4\u00f6\u00f1\u00fc\u00e0";
  var GSM7_EXT = "^{}\\[~]|\u20ac\f";

  function smsCount(body) {
    var gsm = true, septets = 0;
    for (var i = 0; i < body.length; i++) {
      var c = body.charAt(i);
      if (GSM7.indexOf(c) >= 0) { septets += 1; }
      else if (GSM7_EXT.indexOf(c) >= 0) { septets += 2; }
      else { gsm = false; break; }
    }
    var length = gsm ? septets : body.length;  // UTF-16 code units
    var single = gsm ? 160 : 70, part = gsm ? 153 : 67;
    var segments = length === 0 ? 0 : (length <= single ? 1 : Math.ceil(length / part));
    return { gsm: gsm, length: length, segments: segments, limit: segments > 1 ? segments * part : single };
  }

  function channel() { return (phone.className.match(/\bch-(\w+)/) || [])[1] || "sms"; }

  var text = document.getElementById("sms-text");
  var counter = document.getElementById("sms-counter");
  function updateCounter() {
    var body = text.value, ch = channel(), shown;
    if (ch === "sms") {
      var c = smsCount(body);
      shown = phone.getAttribute("data-text-chars").replace("{n}", c.length).replace("{limit}", c.limit)
        .replace("{encoding}", c.gsm ? "GSM-7" : "UCS-2").replace("{segments}", Math.max(1, c.segments));
      counter.setAttribute("data-length", String(c.length));
      counter.setAttribute("data-segments", String(c.segments));
      counter.setAttribute("data-encoding", c.gsm ? "GSM-7" : "UCS-2");
      counter.classList.toggle("over", c.segments > 1);
    } else {
      shown = phone.getAttribute("data-text-plain").replace("{n}", body.length)
        .replace("{limit}", phone.getAttribute("data-limit-" + ch));
      counter.removeAttribute("data-segments");
    }
    counter.textContent = shown;
  }
  text.addEventListener("input", updateCounter);

  document.querySelectorAll('#sim-channels input[name="channel"]').forEach(function (radio) {
    radio.addEventListener("change", function () {
      if (!radio.checked) { return; }
      phone.className = phone.className.replace(/\bch-\w+/, "ch-" + radio.value);
      document.getElementById("channel-name").textContent = radio.parentNode.textContent.trim();
      document.cookie = "sim_channel=" + radio.value + "; path=/simulator; SameSite=Lax";
      updateCounter();
    });
  });

  function el(tag, cls, content) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (content !== undefined) { node.textContent = content; }
    return node;
  }

  function bubble(m) {
    var cls = "bubble " + (m.direction === "in" ? "in" : "out");
    if (m.callback) { cls += " is-callback"; }
    if (m.edit_of) { cls += " is-edit"; }
    if (m.edited_text) { cls += " has-edit"; }
    var li = el("li", cls);
    li.setAttribute("data-key", m.key);
    (m.photos || []).forEach(function (url) {
      var a = el("a", "thumb");
      a.href = url;
      var img = el("img");
      img.src = url;
      img.alt = phone.getAttribute("data-text-thumb");
      img.addEventListener("load", function () {  // a photo grows the thread once it loads
        if (stick) { bubbles.scrollTop = bubbles.scrollHeight; }
      });
      a.appendChild(img);
      li.appendChild(a);
    });
    if (m.callback) {
      li.appendChild(el("span", "pressed", phone.getAttribute("data-text-pressed").replace("{label}", m.pressed || m.text)));
    }
    li.appendChild(el("span", "text", (m.photo && !(m.photos || []).length ? "\uD83D\uDCF7 " : "") + m.text));
    if (m.edited_text) { li.appendChild(el("span", "text edited-text", m.edited_text)); }
    if (m.buttons && m.buttons.length) {
      var row = el("div", "tg-buttons");
      m.buttons.forEach(function (label, index) {
        var b = el("button", "tg-button", label);
        b.type = "button";
        b.setAttribute("data-outbound", String(m.id));
        b.setAttribute("data-index", String(index));
        row.appendChild(b);
      });
      li.appendChild(row);
    }
    var meta = el("span", "meta");
    if (m.segments) {
      meta.appendChild(el("span", "segments", phone.getAttribute("data-text-segments").replace("{n}", m.segments)));
      meta.appendChild(document.createTextNode(" "));
    }
    meta.appendChild(el("span", "time", m.time));
    li.appendChild(meta);
    return li;
  }

  function render(messages) {
    var signature = JSON.stringify(messages);
    if (signature === lastThread) { return; }
    lastThread = signature;
    stick = bubbles.scrollHeight - bubbles.scrollTop - bubbles.clientHeight < 40;
    var focused = document.activeElement && bubbles.contains(document.activeElement)
      ? document.activeElement.getAttribute("data-outbound") : null;
    bubbles.textContent = "";
    messages.forEach(function (m) { bubbles.appendChild(bubble(m)); });
    if (focused) {  // keep keyboard users where they were
      var again = bubbles.querySelector('[data-outbound="' + focused + '"]');
      if (again) { again.focus(); }
    }
    if (stick) { bubbles.scrollTop = bubbles.scrollHeight; }
  }

  function poll() {
    fetch(threadUrl, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) { render(data.messages); } })
      .catch(function () { /* the next poll tries again */ })
      .finally(function () { setTimeout(poll, Date.now() < fastUntil ? 700 : 3000); });
  }

  function post(url, body) {
    status.textContent = "\u2026";
    return fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRF-Token": csrf }
    }).then(function (r) { return r.json().then(function (data) { return [r.ok, data]; }); })
      .then(function (result) {
        if (result[0]) {
          status.textContent = "";
          fastUntil = Date.now() + 20000;
        } else {
          status.textContent = result[1].error || "error";
        }
        return result[0];
      })
      .catch(function () { status.textContent = "error"; return false; });
  }

  function submit(form, done) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      post(form.action, new FormData(form)).then(function (ok) { if (ok) { done(); } });
    });
  }

  // Telegram's inline buttons: the press is a callback query on the message (relay.simulator).
  bubbles.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest(".tg-button") : null;
    if (!button || !button.hasAttribute("data-outbound")) { return; }
    event.preventDefault();
    var body = new FormData();
    body.append("phone", number);
    body.append("outbound_id", button.getAttribute("data-outbound"));
    body.append("index", button.getAttribute("data-index"));
    button.disabled = true;
    post(pressUrl, body).then(function () { button.disabled = false; });
  });
  // Server-rendered buttons (before the first poll) are forms: the same press.
  bubbles.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList.contains("tg-buttons")) { return; }
    event.preventDefault();
    var body = new FormData(form);
    if (event.submitter) { body.append("index", event.submitter.value); }
    post(form.action, body);
  });

  var sms = document.getElementById("sms-form");
  submit(sms, function () { text.value = ""; updateCounter(); text.focus(); });
  text.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); sms.requestSubmit(); }
  });
  var photo = document.getElementById("photo-form");
  submit(photo, function () { photo.reset(); });
  var reset = document.getElementById("reset-form");
  submit(reset, function () { lastThread = null; bubbles.textContent = ""; });
  updateCounter();
  bubbles.scrollTop = bubbles.scrollHeight;
  poll();
})();
