// The photo viewer: zoom and move an upright photo with buttons, keys (+ - 0, arrows), the
// mouse wheel or dragging; boxes on the numbers in question, a button to zoom on each.
// Positions come from data attributes and are set through the CSSOM (the CSP has no inline
// styles).
(function () {
  "use strict";
  var MAX = 8, STEP = 1.5, MOVE = 0.1;

  function setup(figure) {
    var frame = figure.querySelector(".pv-frame");
    var stage = figure.querySelector(".pv-stage");
    var level = figure.querySelector(".pv-level");
    var levelText = figure.getAttribute("data-level-text") || "{n}x";
    var state = { scale: 1, x: 0, y: 0 };  // x, y: the stage's offset in frame pixels

    figure.querySelectorAll(".pv-box").forEach(function (box) {
      var b = box.getAttribute("data-box").split(",").map(Number);
      box.style.left = (b[0] * 100) + "%";
      box.style.top = (b[1] * 100) + "%";
      box.style.width = (b[2] * 100) + "%";
      box.style.height = (b[3] * 100) + "%";
    });

    function clamp() {
      var w = frame.clientWidth, h = stage.offsetHeight;
      var fh = frame.clientHeight;
      state.x = Math.min(0, Math.max(w - w * state.scale, state.x));
      state.y = Math.min(0, Math.max(fh - h * state.scale, state.y));
      if (h * state.scale < fh) { state.y = 0; }
    }

    function apply() {
      clamp();
      stage.style.transform = "translate(" + state.x + "px," + state.y + "px) scale(" + state.scale + ")";
      figure.setAttribute("data-scale", state.scale.toFixed(2));
      figure.classList.toggle("pv-zoomed", state.scale > 1.01);
      var n = state.scale.toLocaleString(document.documentElement.lang || undefined,
        { minimumFractionDigits: 1, maximumFractionDigits: 1 });  // 1,5 in Indonesian
      level.textContent = state.scale > 1.01 ? levelText.replace("{n}", n) : "";
    }

    function zoomAt(scale, cx, cy) {  // keep the frame point (cx, cy) where it is
      scale = Math.max(1, Math.min(MAX, scale));
      var px = (cx - state.x) / state.scale, py = (cy - state.y) / state.scale;
      state.scale = scale;
      state.x = cx - px * scale;
      state.y = cy - py * scale;
      apply();
    }

    function centre() { return [frame.clientWidth / 2, frame.clientHeight / 2]; }

    function zoom(how) {
      var c = centre();
      if (how === "in") { zoomAt(state.scale * STEP, c[0], c[1]); }
      else if (how === "out") { zoomAt(state.scale / STEP, c[0], c[1]); }
      else { state.scale = 1; state.x = 0; state.y = 0; apply(); }
    }

    function focusField(field) {
      var box = figure.querySelector('.pv-box[data-field="' + field + '"]');
      if (!box) { return; }
      var b = box.getAttribute("data-box").split(",").map(Number);
      var w = frame.clientWidth, h = stage.offsetHeight, fh = frame.clientHeight;
      var scale = Math.max(1, Math.min(MAX, 0.8 * Math.min(w / (b[2] * w), fh / (b[3] * h))));
      state.scale = scale;
      state.x = w / 2 - (b[0] + b[2] / 2) * w * scale;
      state.y = fh / 2 - (b[1] + b[3] / 2) * h * scale;
      figure.querySelectorAll(".pv-box").forEach(function (other) {
        other.classList.toggle("pv-current", other === box);
      });
      apply();
    }

    figure.querySelectorAll("[data-zoom]").forEach(function (button) {
      button.addEventListener("click", function () { zoom(button.getAttribute("data-zoom")); });
    });
    figure.querySelectorAll("[data-focus-field]").forEach(function (button) {
      button.addEventListener("click", function () { focusField(button.getAttribute("data-focus-field")); });
    });
    frame.addEventListener("keydown", function (event) {
      var w = frame.clientWidth, h = frame.clientHeight, handled = true;
      if (event.key === "+" || event.key === "=") { zoom("in"); }
      else if (event.key === "-" || event.key === "_") { zoom("out"); }
      else if (event.key === "0") { zoom("fit"); }
      else if (event.key === "ArrowLeft") { state.x += w * MOVE; apply(); }
      else if (event.key === "ArrowRight") { state.x -= w * MOVE; apply(); }
      else if (event.key === "ArrowUp") { state.y += h * MOVE; apply(); }
      else if (event.key === "ArrowDown") { state.y -= h * MOVE; apply(); }
      else { handled = false; }
      if (handled) { event.preventDefault(); }
    });
    frame.addEventListener("wheel", function (event) {
      // At first the wheel scrolls the page; Ctrl+wheel (a trackpad's pinch) zooms.
      if (!event.ctrlKey && state.scale <= 1.01) { return; }
      event.preventDefault();
      var r = frame.getBoundingClientRect();
      zoomAt(state.scale * (event.deltaY < 0 ? 1.2 : 1 / 1.2), event.clientX - r.left, event.clientY - r.top);
    }, { passive: false });
    var drag = null;
    frame.addEventListener("pointerdown", function (event) {
      if (state.scale <= 1.01) { return; }
      drag = [event.clientX - state.x, event.clientY - state.y];
      frame.setPointerCapture(event.pointerId);
    });
    frame.addEventListener("pointermove", function (event) {
      if (!drag) { return; }
      state.x = event.clientX - drag[0];
      state.y = event.clientY - drag[1];
      apply();
    });
    frame.addEventListener("pointerup", function () { drag = null; });
    window.addEventListener("resize", apply);

    var start = figure.getAttribute("data-focus");
    var img = figure.querySelector(".pv-img");
    function opening() { if (start) { focusField(start); } else { apply(); } }
    if (img.complete) { opening(); } else { img.addEventListener("load", opening); }
    figure.classList.add("pv-ready");
  }

  function setupAll() {
    document.querySelectorAll("[data-viewer]:not(.pv-ready)").forEach(setup);
  }
  setupAll();
  document.addEventListener("relay:refreshed", setupAll);  // web/static/refresh.js
})();
