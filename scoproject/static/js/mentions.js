// @mention suggestions for textareas marked data-mentions: typing "@st" lists matching
// course members as buttons below the field; choosing one completes the name.
(function () {
  "use strict";
  var script = document.currentScript;
  var url = script && script.dataset.url;
  if (!url) return;

  function wordBeforeCaret(field) {
    var match = /@([\w.+-]*)$/.exec(field.value.slice(0, field.selectionStart));
    return match ? match[1] : null;
  }

  function listFor(field) {
    var list = field.parentNode.querySelector(".mention-suggestions");
    if (!list) {
      list = document.createElement("ul");
      list.className = "mention-suggestions";
      list.setAttribute("aria-label", "Members you can mention");
      list.setAttribute("aria-live", "polite");
      field.insertAdjacentElement("afterend", list);
    }
    return list;
  }

  function complete(field, name) {
    var caret = field.selectionStart;
    var before = field.value.slice(0, caret).replace(/@[\w.+-]*$/, "@" + name + " ");
    field.value = before + field.value.slice(caret);
    field.focus();
    field.setSelectionRange(before.length, before.length);
    listFor(field).replaceChildren();
  }

  document.addEventListener("input", function (event) {
    var field = event.target;
    if (!field.matches || !field.matches("textarea[data-mentions]")) return;
    var prefix = wordBeforeCaret(field);
    var list = listFor(field);
    if (prefix === null || prefix.length < 1) { list.replaceChildren(); return; }
    fetch(url + "?q=" + encodeURIComponent(prefix), { headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : { results: [] }; })
      .then(function (data) {
        list.replaceChildren.apply(list, data.results.map(function (name) {
          var item = document.createElement("li");
          var button = document.createElement("button");
          button.type = "button";
          button.textContent = "@" + name;
          button.addEventListener("click", function () { complete(field, name); });
          item.appendChild(button);
          return item;
        }));
      });
  });
})();
