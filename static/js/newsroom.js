/* Newsroom's few behaviours. The pages work without this file; it adds:
 *  - "/" moves to the search box (unless the reader is typing somewhere);
 *  - the filters of a search open by themselves on wide screens;
 *  - the "copy link" button of an article.
 * Loaded with defer from static/, so the Content-Security-Policy can forbid
 * inline scripts.
 */
(function () {
  "use strict";

  function isTyping(element) {
    if (!element) return false;
    if (element.isContentEditable) return true;
    return /^(INPUT|TEXTAREA|SELECT)$/.test(element.tagName);
  }

  // "/" on the US layout; on an Arabic layout the same key types "ظ", so the key's position counts too.
  function isSlash(event) {
    return event.key === "/" || (event.code === "Slash" && !event.shiftKey);
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (!isSlash(event) || isTyping(event.target)) return;
    var box = document.querySelector("input[name=q]");
    if (!box) return;
    event.preventDefault();
    box.focus();
    box.select();
  });

  var wide = window.matchMedia("(min-width: 56em)");
  function openFiltersOnWideScreens() {
    if (!wide.matches) return;
    document.querySelectorAll("details[data-open-wide]").forEach(function (details) {
      details.open = true;
    });
  }
  openFiltersOnWideScreens();
  if (wide.addEventListener) wide.addEventListener("change", openFiltersOnWideScreens);

  document.querySelectorAll("button[data-copy-target]").forEach(function (button) {
    var input = document.getElementById(button.getAttribute("data-copy-target"));
    var status = document.getElementById(button.getAttribute("data-copy-status"));
    if (!input) return;

    function tell(message) {
      if (!status) return;
      // Emptied first so that a second copy is announced again.
      status.textContent = "";
      window.setTimeout(function () { status.textContent = message; }, 50);
    }

    function copyBySelecting() {
      input.focus();
      input.select();
      var copied = false;
      try {
        copied = document.execCommand("copy");
      } catch (error) {
        copied = false;
      }
      tell(copied ? button.getAttribute("data-copied") : button.getAttribute("data-failed"));
    }

    button.hidden = false;
    button.addEventListener("click", function () {
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(input.value).then(function () {
          tell(button.getAttribute("data-copied"));
        }, copyBySelecting);
      } else {
        copyBySelecting();
      }
    });
  });
})();
