// Draftail's editable area (role="textbox") has no accessible name inside StreamField blocks
// (axe: aria-input-field-name, serious): screen readers announce an unnamed text box. Name
// each one after its field's label, or "富文本内容", as editors appear (blocks added later too).
(function () {
  "use strict";

  function labelFor(editor) {
    var field = editor.closest("[data-field-wrapper], .w-field, [data-contentpath]");
    var label = field && field.querySelector("label, .w-field__label");
    var text = label && label.textContent.replace(/\s+/g, " ").trim();
    return text || "富文本内容";
  }

  function nameEditors() {
    var editors = document.querySelectorAll('.public-DraftEditor-content[role="textbox"]');
    editors.forEach(function (editor) {
      if (!editor.getAttribute("aria-label")) {
        editor.setAttribute("aria-label", labelFor(editor));
      }
    });
  }

  function start() {
    nameEditors();
    new MutationObserver(nameEditors).observe(document.body, {childList: true, subtree: true});
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
