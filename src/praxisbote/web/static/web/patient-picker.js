// Patient picker: type-ahead on top of the search field (web/forms/patient_picker.html).
// Without this script the field's "Search" button shows the matches as radio buttons.
// ARIA combobox with a listbox: arrows move, Enter takes, Escape closes; the matches come
// from the staff-only JSON view (web:patient_search), debounced, late answers dropped.
(function () {
  "use strict";

  function format(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_m, key) { return values[key]; });
  }

  function setup(box) {
    var input = box.querySelector("[data-picker-input]");
    var list = document.getElementById(input.getAttribute("aria-controls"));
    var status = box.querySelector("[data-picker-status]");
    var chosen = box.querySelector("[data-picker-chosen]");
    var data = box.dataset;
    var minChars = Number(data.minChars || "2");
    var timer = null;
    var sequence = 0;
    var options = [];
    var active = -1;

    function valueField() {
      var field = box.querySelector("[data-picker-value]");
      if (!field) {
        // The page came back with radio buttons (a search without script): from now on
        // the choice is made here, so one hidden field replaces them.
        var results = box.querySelector("[data-picker-results]");
        var name = input.name.replace(/_q$/, "");
        if (results) results.remove();
        field = document.createElement("input");
        field.type = "hidden";
        field.name = name;
        field.setAttribute("data-picker-value", "");
        box.appendChild(field);
      }
      return field;
    }

    function announce(text) { if (status) status.textContent = text; }

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(index) {
      options.forEach(function (li, i) { li.setAttribute("aria-selected", i === index ? "true" : "false"); });
      active = index;
      if (index >= 0) {
        input.setAttribute("aria-activedescendant", options[index].id);
        options[index].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function choose(result) {
      var field = valueField();
      field.value = result.id;
      input.value = result.name;
      chosen.querySelector("[data-picker-chosen-name]").textContent = result.name;
      chosen.querySelector("[data-picker-chosen-born]").textContent =
        result.born ? " · " + data.labelBorn + " " + result.born : "";
      chosen.hidden = false;
      close();
      announce(chosen.textContent.trim());
      field.dispatchEvent(new Event("change", { bubbles: true }));
    }

    function unchoose() {
      var field = box.querySelector("[data-picker-value]");
      if (field && field.value) {
        field.value = "";
        chosen.hidden = true;
        field.dispatchEvent(new Event("change", { bubbles: true }));
      }
    }

    function note(text) {
      var li = document.createElement("li");
      li.className = "picker-note";
      li.setAttribute("aria-disabled", "true");
      li.textContent = text;
      list.appendChild(li);
    }

    function show(answer) {
      list.textContent = "";
      options = answer.results.map(function (result, i) {
        var li = document.createElement("li");
        li.id = list.id + "_" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        var strong = document.createElement("strong");
        strong.textContent = result.name;
        li.appendChild(strong);
        if (result.born) li.appendChild(document.createTextNode(" · " + data.labelBorn + " " + result.born));
        if (result.hint) {
          var hint = document.createElement("span");
          hint.className = "muted";
          hint.textContent = " · " + result.hint;
          li.appendChild(hint);
        }
        // mousedown, not click: the field keeps the focus
        li.addEventListener("mousedown", function (event) { event.preventDefault(); choose(result); });
        list.appendChild(li);
        return li;
      });
      if (!options.length) note(data.labelNone);
      if (answer.more) note(data.labelMore);
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      active = -1;
      announce(options.length ? format(data.labelFound, { n: options.length }) + (answer.more ? " " + data.labelMore : "") : data.labelNone);
    }

    function search() {
      clearTimeout(timer);
      var query = input.value.trim();
      var mine = ++sequence;
      if (query.length < minChars) { close(); return; }
      var url = data.searchUrl + "?q=" + encodeURIComponent(query);
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) throw new Error(String(response.status));
          return response.json();
        })
        .then(function (answer) {
          if (mine !== sequence || input.value.trim() !== query) return; // a late answer
          show(answer);
        })
        .catch(function () { if (mine === sequence) announce(data.labelError); });
    }

    input.addEventListener("input", function () {
      unchoose();
      clearTimeout(timer);
      timer = setTimeout(search, 250);
    });
    input.addEventListener("keydown", function (event) {
      var open = !list.hidden && options.length > 0;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        if (!open) { search(); return; }
        var step = event.key === "ArrowDown" ? 1 : -1;
        highlight((active + step + options.length) % options.length);
      } else if (event.key === "Enter") {
        // Enter in the search field never sends the form: it takes the highlighted
        // match, or searches now.
        event.preventDefault();
        if (open && active >= 0) {
          options[active].dispatchEvent(new MouseEvent("mousedown", { cancelable: true }));
        } else {
          search();
        }
      } else if (event.key === "Escape") {
        if (!list.hidden) { event.preventDefault(); close(); }
      }
    });
    input.addEventListener("blur", function () { setTimeout(close, 150); });
    box.dataset.ready = "1";
  }

  // Enter in another field of the form submits it by its first button, which is a
  // picker's "Search" (it comes first). Without script that only shows the page again,
  // nothing is saved; with script, Enter there does what the form's own button does.
  function mainButton(form) {
    return form.querySelector("button[type=submit]:not([data-picker-search]), input[type=submit]");
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!window.fetch) return;
    var pickers = document.querySelectorAll("[data-patient-picker]");
    pickers.forEach(setup);
    pickers.forEach(function (box) {
      var form = box.closest("form");
      if (!form || form.dataset.pickerForm) return;
      form.dataset.pickerForm = "1";
      form.addEventListener("keydown", function (event) {
        var field = event.target;
        if (event.key !== "Enter" || event.defaultPrevented || field.tagName !== "INPUT") return;
        if (field.hasAttribute("data-picker-input")) return;
        if (["button", "submit", "reset", "image", "file"].indexOf(field.type) >= 0) return;
        var first = form.querySelector("button[type=submit], input[type=submit]");
        var main = mainButton(form);
        if (!first || !first.hasAttribute("data-picker-search") || !main || !form.requestSubmit) return;
        event.preventDefault();
        form.requestSubmit(main);
      });
    });
  });
})();
