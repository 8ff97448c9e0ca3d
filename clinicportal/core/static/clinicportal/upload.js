// Show upload progress for file forms. Without JavaScript the form still posts normally.
(function () {
  "use strict";

  function bind(form) {
    form.addEventListener("submit", function (event) {
      if (!window.FormData || !window.XMLHttpRequest) { return; }
      event.preventDefault();
      var box = form.querySelector("[data-upload-progress]");
      var bar = box.querySelector("progress");
      var percent = box.querySelector("[data-upload-percent]");
      var button = form.querySelector("button[type=submit]");
      box.hidden = false;
      button.disabled = true;
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action || window.location.href);
      xhr.setRequestHeader("X-Upload-Progress", "1");
      xhr.upload.addEventListener("progress", function (e) {
        if (!e.lengthComputable) { return; }
        var value = Math.floor((e.loaded / e.total) * 100);
        bar.value = value;
        percent.textContent = value + "%";
      });
      xhr.addEventListener("load", function () {
        if (xhr.status < 400) {
          // Accepted: the server says where to go next (the chart).
          var next = JSON.parse(xhr.responseText).location;
          window.location.assign(next);
          return;
        }
        // Refused: the server answered with the form saying what was wrong.
        var main = new DOMParser().parseFromString(xhr.responseText, "text/html").querySelector("main");
        if (!main) { window.location.reload(); return; }
        document.querySelector("main").replaceWith(main);
        main.querySelectorAll("form[data-upload-form]").forEach(bind);
        var errors = main.querySelector(".form-errors");
        if (errors) { errors.focus(); }
      });
      xhr.addEventListener("error", function () {
        box.hidden = true;
        button.disabled = false;
        window.alert("The upload could not reach the server. Please check your connection and try again.");
      });
      xhr.send(new FormData(form));
    });
  }

  document.querySelectorAll("form[data-upload-form]").forEach(bind);
})();
