// "Print slip" buttons; the page still prints from the browser's menu without JavaScript.
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.addEventListener("click", function () { window.print(); });
});
