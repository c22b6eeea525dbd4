// Turns a text selection inside one paragraph into the paragraph's annotation form:
// the quote and its character offsets in the paragraph's text (W3C TextQuoteSelector and
// TextPositionSelector). Works for mouse and keyboard selections; without this script the
// same form takes a typed or pasted quote.
(function () {
  "use strict";

  function paragraphOf(node) {
    var element = node.nodeType === Node.ELEMENT_NODE ? node : node.parentElement;
    return element ? element.closest(".paragraph__text") : null;
  }

  function offsetIn(container, node, offset) {
    var range = document.createRange();
    range.setStart(container, 0);
    range.setEnd(node, offset);
    return range.toString().length;
  }

  function codePoints(text) {
    return Array.from(text).length;
  }

  function fill(selection) {
    if (!selection || selection.isCollapsed || selection.rangeCount === 0) return;
    var range = selection.getRangeAt(0);
    var text = paragraphOf(range.startContainer);
    if (!text || text !== paragraphOf(range.endContainer)) return;
    var start = offsetIn(text, range.startContainer, range.startOffset);
    var end = offsetIn(text, range.endContainer, range.endOffset);
    var content = text.textContent;
    // Trim spaces the selection picked up at either end.
    while (start < end && /\s/.test(content[start])) start++;
    while (end > start && /\s/.test(content[end - 1])) end--;
    if (end <= start) return;
    var block = text.closest(".annotated");
    var details = block && block.querySelector(".annotate-form");
    if (!details) return;
    var form = details.querySelector("form");
    var exact = content.slice(start, end);
    // The server counts code points (Python string indexes, as the W3C TextPositionSelector
    // does); JavaScript counts UTF-16 units, two for an emoji or any character past U+FFFF.
    var first = codePoints(content.slice(0, start));
    form.querySelector("[name=exact]").value = exact;
    form.querySelector("[name=start]").value = first;
    form.querySelector("[name=end]").value = first + codePoints(exact);
    details.open = true;
    var status = document.getElementById("annotate-status");
    if (status) status.textContent = "Selected " + codePoints(exact) + " characters. The note form is open beside the paragraph.";
  }

  // Selections made with the mouse, the keyboard (caret browsing, Shift+arrows) or touch
  // all end in "selectionchange"; wait until the selection settles.
  var timer = null;
  document.addEventListener("selectionchange", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(function () { fill(window.getSelection()); }, 200);
  });
  // Typing the quote by hand makes the offsets unknown again: the server finds the quote.
  document.addEventListener("input", function (event) {
    if (event.target.name !== "exact") return;
    var form = event.target.form;
    form.querySelector("[name=start]").value = "";
    form.querySelector("[name=end]").value = "";
  });
})();
