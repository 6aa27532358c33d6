/* Name the boxes that select2 (Django's autocomplete widget) adds but leaves
   nameless, so that a screen reader announces the field ("Topics"), not a
   bare "combobox" (axe-core: label, aria-input-field-name). select2 builds
   and rebuilds its elements after the page has loaded, hence the observer. */
(function () {
  "use strict";

  function labelOf(select) {
    return select.id ? document.querySelector('label[for="' + select.id + '"]') : null;
  }

  function nameWidget(select) {
    var label = labelOf(select);
    var widget = select.nextElementSibling;
    if (!label || !widget || !widget.classList.contains("select2")) return;
    var name = label.textContent.replace(/:\s*$/, "").trim();
    if (!label.id) label.id = select.id + "-label";
    widget.querySelectorAll(".select2-selection, .select2-selection__rendered[role=textbox], .select2-search__field")
      .forEach(function (element) {
        var labelledBy = element.getAttribute("aria-labelledby");
        if (labelledBy !== null) {
          // It names itself by what is chosen: put the field's label first.
          var ids = labelledBy.split(/\s+/).filter(function (id) { return id && id !== label.id; });
          element.setAttribute("aria-labelledby", [label.id].concat(ids).join(" "));
        } else if (element.getAttribute("aria-label") !== name) {
          element.setAttribute("aria-label", name);
        }
      });
  }

  function nameWidgets() {
    document.querySelectorAll("select.admin-autocomplete").forEach(nameWidget);
  }

  var scheduled = false;
  new MutationObserver(function () {
    if (scheduled) return;
    scheduled = true;
    window.requestAnimationFrame(function () { scheduled = false; nameWidgets(); });
  }).observe(document.documentElement, {childList: true, subtree: true});
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", nameWidgets);
  } else {
    nameWidgets();
  }
})();
