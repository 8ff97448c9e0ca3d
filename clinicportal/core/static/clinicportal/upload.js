// Show upload progress for file forms. Without JavaScript the form still posts normally.
(function () {
  "use strict";

  // Say above the fields that the upload did not finish, leaving the form as it was (the
  // description typed and the files chosen), so that trying again is one click.
  function notFinished(form, box, button) {
    box.hidden = true;
    button.disabled = false;
    var errors = form.querySelector(".form-errors");
    if (!errors) {
      errors = document.createElement("div");
      errors.className = "form-errors";
      errors.setAttribute("role", "alert");
      errors.tabIndex = -1;
      var token = form.querySelector("input[name=csrfmiddlewaretoken]");
      form.insertBefore(errors, token ? token.nextSibling : form.firstChild);
    }
    var message = document.createElement("p");
    message.textContent = form.getAttribute("data-upload-failed");
    errors.replaceChildren(message);
    errors.focus();
  }

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
          // Accepted: the server says where to go next (the chart, the conversation).
          var next = null;
          try { next = JSON.parse(xhr.responseText).location; } catch (e) { next = null; }
          // No such answer: the request was sent on elsewhere (signed out meanwhile, to the
          // sign-in page) and followed there. Go there too, as the form without this would.
          window.location.assign(next || xhr.responseURL || window.location.href);
          return;
        }
        // Refused, or not finished: the server answered with the form saying why.
        var main = new DOMParser().parseFromString(xhr.responseText, "text/html").querySelector("main");
        if (!main || !main.querySelector("form[data-upload-form]")) {
          // Any other answer (a server error page, a proxy's): say so here, not on a new page.
          notFinished(form, box, button);
          return;
        }
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
