/* 我的学期资源: the upload form shows what it is doing (issue 18, finding 8).

   Progressive enhancement: without this script the form posts as any form does. With it:
   - the chosen or dropped files are listed with their sizes;
   - on submit the form is busy (aria-busy, button disabled, "正在上传…"): a second click or
     Enter sends nothing twice;
   - where XMLHttpRequest can report upload progress, the files go up in the background with a
     progress bar and the bytes sent; the view then answers where to go (success) or the page
     with its errors, which replaces this one. A failed connection says so and the form can be
     sent again.
   A static file, not an inline script: the admin's Content-Security-Policy need not allow
   inline scripts for it. */
(function () {
  "use strict";
  var form = document.querySelector("form[data-resources-upload]");
  if (!form) {
    return;
  }
  var zone = form.querySelector("[data-dropzone]");
  var input = form.querySelector("input[type=file][name=files]");
  var list = form.querySelector("[data-file-list]");
  var button = form.querySelector("[data-upload-submit]");
  var status = form.querySelector("[data-upload-status]");
  var bar = status && status.querySelector("progress");
  var text = status && status.querySelector("[data-upload-text]");
  var label = button ? button.textContent : "";
  var busy = false;

  function megabytes(bytes) {
    return (bytes / 1048576).toFixed(1) + " MB";
  }

  function show() {
    list.innerHTML = "";
    Array.prototype.forEach.call(input.files, function (file) {
      var item = document.createElement("li");
      item.textContent = file.name + "（" + Math.ceil(file.size / 1024) + " KB）";
      list.appendChild(item);
    });
  }

  function setBusy(on, message) {
    busy = on;
    form.setAttribute("aria-busy", on ? "true" : "false");
    if (button) {
      button.disabled = on;
      button.textContent = on ? "正在上传…" : label;
    }
    if (status) {
      status.hidden = false;
      text.textContent = message;
    }
  }

  function warnOnLeave(event) {
    event.preventDefault();
    event.returnValue = "";
  }

  if (zone && input && list) {
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (event) {
        event.preventDefault();
        zone.style.background = "#f0f7ff";
      });
    });
    zone.addEventListener("dragleave", function () {
      zone.style.background = "";
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      zone.style.background = "";
      input.files = event.dataTransfer.files;
      show();
    });
    input.addEventListener("change", show);
  }

  form.addEventListener("submit", function (event) {
    if (busy) {
      event.preventDefault(); // already sending: never twice
      return;
    }
    var xhr = new XMLHttpRequest();
    if (!window.FormData || !xhr.upload) {
      setBusy(true, "正在上传，请勿关闭页面…"); // the browser's own upload goes on
      return;
    }
    event.preventDefault();
    var data = new FormData(form);
    setBusy(true, "正在上传…");
    if (bar) {
      bar.removeAttribute("value"); // indeterminate until the first figure
    }
    xhr.open("POST", form.action);
    xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
    xhr.upload.addEventListener("progress", function (progress) {
      if (!progress.lengthComputable) {
        return;
      }
      var percent = Math.floor((progress.loaded / progress.total) * 100);
      if (bar) {
        bar.max = 100;
        bar.value = percent;
      }
      text.textContent = "已上传 " + megabytes(progress.loaded) + " / " +
        megabytes(progress.total) + "（" + percent + "%）" +
        (percent >= 100 ? "，正在登记并检查文件…" : "");
    });
    xhr.addEventListener("load", function () {
      window.removeEventListener("beforeunload", warnOnLeave);
      var type = xhr.getResponseHeader("Content-Type") || "";
      if (xhr.status === 200 && type.indexOf("application/json") === 0) {
        window.location.assign(JSON.parse(xhr.responseText).redirect);
      } else if (type.indexOf("text/html") === 0) {
        // The page with what was wrong (or the server's error page) replaces this one.
        document.open();
        document.write(xhr.responseText);
        document.close();
      } else {
        setBusy(false, "上传失败（服务器答复 " + xhr.status + "），没有登记任何资源，请重试。");
      }
    });
    ["error", "abort", "timeout"].forEach(function (name) {
      xhr.addEventListener(name, function () {
        window.removeEventListener("beforeunload", warnOnLeave);
        setBusy(false, "上传中断（网络连接失败），没有登记任何资源，请重试。");
      });
    });
    window.addEventListener("beforeunload", warnOnLeave);
    xhr.send(data);
  });
})();
