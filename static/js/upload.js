// The submit form: the tarball is sent with a progress bar, and the page the server answers
// (the submission, or the form with its errors) replaces this one. Without this script the
// form posts as usual. The server streams and caps the upload either way.
(function () {
  "use strict";
  var form = document.getElementById("submit-form");
  if (!form || !window.FormData || !window.XMLHttpRequest) return;
  var maxBytes = Number(form.dataset.maxBytes || 0);
  var box = document.getElementById("upload-progress");
  var bar = document.getElementById("upload-bar");
  var status = document.getElementById("upload-status");
  var button = document.getElementById("submit-button");
  var description = document.getElementById("id_description");
  var counter = document.getElementById("description-count");

  function mib(bytes) { return (bytes / 1048576).toFixed(1) + " MiB"; }

  if (description && counter) {
    var limit = Number(description.getAttribute("maxlength") || 0);
    var count = function () { counter.textContent = description.value.length + " of " + limit + " characters"; };
    description.addEventListener("input", count);
    count();
  }

  form.addEventListener("submit", function (event) {
    var file = form.querySelector("input[type=file]");
    var chosen = file && file.files && file.files[0];
    if (chosen && maxBytes && chosen.size > maxBytes) {
      event.preventDefault();
      box.hidden = false;
      status.textContent = "This file is " + mib(chosen.size) + ", over the upload limit of " + mib(maxBytes) + ": shrink the image and choose it again.";
      return;
    }
    event.preventDefault();
    var request = new XMLHttpRequest();
    request.open("POST", form.action);
    request.upload.addEventListener("progress", function (progress) {
      if (!progress.lengthComputable) return;
      var percent = Math.round((100 * progress.loaded) / progress.total);
      bar.value = percent;
      bar.textContent = percent + " %";
      status.textContent = mib(progress.loaded) + " of " + mib(progress.total) + " sent";
    });
    request.upload.addEventListener("load", function () { status.textContent = "Sent; the server is checking the image\u2026"; });
    request.addEventListener("load", function () {
      // A redirect was followed: the submission's page. Otherwise the form again, with its errors.
      if (request.status < 400 && request.responseURL && request.responseURL !== form.action) {
        window.location.assign(request.responseURL);
        return;
      }
      document.open();
      document.write(request.responseText);
      document.close();
    });
    request.addEventListener("error", function () {
      button.disabled = false;
      status.textContent = "The upload was interrupted: check the connection and send it again.";
    });
    box.hidden = false;
    button.disabled = true;
    request.send(new FormData(form));
  });
})();
