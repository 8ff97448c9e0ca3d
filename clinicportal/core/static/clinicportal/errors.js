// A form that came back refused: the focus goes to what says so, the box of its problems or
// else the first field marked wrong. Left at the top of the page, someone on a keyboard or a
// screen reader would not learn that nothing was saved, nor where to look.
(function () {
  "use strict";
  var target = document.querySelector(".form-errors") ||
    document.querySelector("main [aria-invalid=\"true\"]");
  if (!target) { return; }
  if (!target.hasAttribute("tabindex") && !target.matches("input, select, textarea")) {
    target.tabIndex = -1;
  }
  target.focus();
})();
