/* Kiosk mode (templates/kiosk/layout.html). Two things, both optional: the pages work without it.
 *
 * 1. "Print receipt" buttons ([data-kiosk-print], hidden until this script runs) print the page
 *    (voting.css has the print stylesheet: the code and its QR code only).
 * 2. The idle timeout (kiosk/timeouts.py): after data-kiosk-idle seconds without a key press,
 *    touch, click or scroll, an alert dialog asks "Are you still there?" with a countdown of
 *    data-kiosk-warning seconds; "Continue" (or Escape) goes back to the page, otherwise the
 *    kiosk goes to data-kiosk-timeout-url, which clears the session. Without this script the
 *    page's <noscript> refresh does the same after a fixed time.
 * 3. A page waiting for something (a closed point's start screen: data-kiosk-reload seconds)
 *    loads data-kiosk-reload-url again, as its <noscript> refresh does without this script. */
(function () {
  "use strict";
  var printButtons = document.querySelectorAll("[data-kiosk-print]");
  Array.prototype.forEach.call(printButtons, function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });

  var body = document.body;
  var reload = parseInt(body.getAttribute("data-kiosk-reload"), 10);
  var reloadUrl = body.getAttribute("data-kiosk-reload-url");
  if (reload && reloadUrl) {
    window.setTimeout(function () { window.location.replace(reloadUrl); }, reload * 1000);
  }
  var idle = parseInt(body.getAttribute("data-kiosk-idle"), 10);
  var warning = parseInt(body.getAttribute("data-kiosk-warning"), 10);
  var url = body.getAttribute("data-kiosk-timeout-url");
  var dialog = document.getElementById("kiosk-idle");
  if (!idle || !warning || !url || !dialog) { return; }
  var text = document.getElementById("kiosk-idle-text");
  var template = text.getAttribute("data-template");
  var proceed = dialog.querySelector("[data-kiosk-continue]");
  var idleTimer = null;
  var countdown = null;
  var remaining = 0;
  var returnFocus = null;

  function isOpen() { return dialog.hasAttribute("open"); }

  function show() {
    text.textContent = template.replace("{seconds}", String(remaining));
  }

  function leave() {
    window.clearInterval(countdown);
    window.location.replace(url);
  }

  function warn() {
    returnFocus = document.activeElement;
    remaining = warning;
    show();
    if (typeof dialog.showModal === "function") { dialog.showModal(); } else { dialog.setAttribute("open", ""); }
    proceed.focus();
    countdown = window.setInterval(function () {
      remaining -= 1;
      if (remaining <= 0) { leave(); return; }
      show();
    }, 1000);
  }

  function restart() {
    window.clearTimeout(idleTimer);
    idleTimer = window.setTimeout(warn, idle * 1000);
  }

  function stay() {
    window.clearInterval(countdown);
    if (isOpen()) {
      if (typeof dialog.close === "function") { dialog.close(); } else { dialog.removeAttribute("open"); }
    }
    if (returnFocus && typeof returnFocus.focus === "function") { returnFocus.focus(); }
    restart();
  }

  proceed.addEventListener("click", stay);
  dialog.addEventListener("cancel", function (event) { event.preventDefault(); stay(); });
  ["keydown", "pointerdown", "touchstart", "input", "scroll", "wheel"].forEach(function (name) {
    document.addEventListener(name, function () { if (!isOpen()) { restart(); } }, { capture: true, passive: true });
  });
  restart();
})();
