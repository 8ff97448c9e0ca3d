// Warn a minute before the server signs the patient out for inactivity, then reload so the
// server can do so. The time-out itself is enforced by the server; this only warns.
(function () {
  "use strict";
  var header = document.querySelector("[data-idle-minutes]");
  var box = document.querySelector("[data-idle-warning]");
  if (!header || !box) { return; }
  var idle = parseInt(header.getAttribute("data-idle-minutes"), 10) * 60 * 1000;
  var warnAt = Math.max(idle - 60 * 1000, idle / 2);
  window.setTimeout(function () {
    box.hidden = false;
    box.querySelector("[data-idle-stay]").focus();
  }, warnAt);
  window.setTimeout(function () { window.location.reload(); }, idle + 2000);
})();
