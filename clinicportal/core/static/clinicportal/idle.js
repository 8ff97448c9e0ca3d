// Warn a minute before the server signs the patient out for inactivity, then reload so the
// server can do so. The time-out itself is enforced by the server; this only warns.
//
// "Stay signed in" asks the server for this page again in the background and keeps the page as
// it is: a patient who took their time writing a message keeps what they typed. The request is
// the patient's own click, so the server counts it as activity, as it would a reload.
(function () {
  "use strict";
  var header = document.querySelector("[data-idle-minutes]");
  var box = document.querySelector("[data-idle-warning]");
  if (!header || !box) { return; }
  var stay = box.querySelector("[data-idle-stay]");
  var idle = parseInt(header.getAttribute("data-idle-minutes"), 10) * 60 * 1000;
  var warnAt = Math.max(idle - 60 * 1000, idle / 2);
  var warning = null;
  var ending = null;

  function start() {
    window.clearTimeout(warning);
    window.clearTimeout(ending);
    warning = window.setTimeout(function () {
      box.hidden = false;
      stay.focus();
    }, warnAt);
    ending = window.setTimeout(function () { window.location.reload(); }, idle + 2000);
  }

  stay.addEventListener("click", function (event) {
    if (!window.fetch) { return; }  // the link reloads the page instead
    event.preventDefault();
    window.fetch(window.location.href, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        var signedOut = response.redirected && /\/login\/(\?|$)/.test(response.url);
        if (!response.ok || signedOut) { window.location.reload(); return; }
        box.hidden = true;
        start();
      })
      .catch(function () { window.location.reload(); });
  });
  start();
})();
