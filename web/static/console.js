// Console: the SMS length of a reply as the officer will receive it (prefix included), in
// GSM-7 septets or, once a character is outside GSM-7, UTF-16 units (bots/sms.py counts the
// same way); Ctrl+Enter sends the reply; "/" jumps to the queue's search box.
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

  document.addEventListener("keydown", function (event) {
    var search = document.getElementById("f-q");
    var typing = /^(INPUT|TEXTAREA|SELECT)$/.test((event.target || {}).tagName || "");
    if (search && event.key === "/" && !typing) {
      event.preventDefault();
      search.focus();
    }
  });
}());
