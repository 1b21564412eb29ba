/* The receipt's QR code opens the lookup page with the code after "#", the one part of an
 * address that browsers never send to a server, so the code reaches no access log. This script
 * takes it from there, removes it from the address bar and the history, and sends it with the
 * lookup form (POST). Without JavaScript the page asks for the code printed on the receipt. */
(function () {
  "use strict";
  var form = document.querySelector("form[data-receipt-lookup]");
  var fragment = window.location.hash.slice(1);
  if (!form || !fragment) { return; }
  var code;
  try { code = decodeURIComponent(fragment); } catch (e) { return; }
  // Only a receipt code (16 base32 characters, any case, any dashes): not an in-page anchor.
  if (!/^[A-Z2-7]{16}$/.test(code.toUpperCase().replace(/[\s-]/g, ""))) { return; }
  if (window.history && window.history.replaceState) {
    window.history.replaceState(null, "", window.location.pathname + window.location.search);
  } else {
    window.location.hash = "";
  }
  form.elements.codigo.value = code;
  form.submit();
})();
