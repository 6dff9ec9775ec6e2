/*
 * Template editor (TPL-4): while typing, ask the server to render the template
 * (POST /templates/preview/, the same checks as saving), show the result, count the
 * rendered SMS with sms-counter.js (the outbox's rules) and show mistakes with their line
 * next to the field. Without JavaScript the page still saves and previews on submit.
 */
(function () {
  "use strict";

  function format(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_m, key) {
      return values[key] === undefined ? "" : String(values[key]);
    });
  }

  function money(value, lang) {
    return Number(value).toLocaleString(lang, { minimumFractionDigits: 2, maximumFractionDigits: 4 });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("template-form");
    if (!form || !window.fetch) return;
    var data = form.dataset;
    var lang = document.documentElement.lang || "de";
    var fields = ["subject", "text", "html"]
      .map(function (name) { return form.elements[name]; })
      .filter(Boolean);
    // The preview's patient: the picker's hidden field (it may be created later).
    function patientId() {
      var field = form.querySelector(
        "input[name=preview_patient][data-picker-value], input[name=preview_patient]:checked"
      );
      return field ? field.value : "";
    }
    var out = {
      text: document.getElementById("preview-text"),
      subject: document.getElementById("preview-subject"),
      count: document.getElementById("sms-count"),
      warnings: document.getElementById("preview-warnings"),
      longName: document.getElementById("long-name"),
      data: document.getElementById("preview-data"),
    };
    var timer = null;
    var sequence = 0;

    function showCount(text) {
      if (!out.count || !window.praxisboteAnalyzeSms) return;
      var analysis = window.praxisboteAnalyzeSms(text, data.smart === "1");
      var cost = analysis.segments * Number(data.price);
      out.count.textContent = format(
        analysis.segments === 1 ? data.labelOne : data.labelMany,
        {
          chars: analysis.characters,
          enc: analysis.encoding,
          parts: analysis.segments,
          cost: money(cost, lang),
          cur: data.currency,
        }
      );
      out.count.dataset.segments = String(analysis.segments);
    }

    function showErrors(errors) {
      fields.forEach(function (field) {
        var box = document.getElementById("live_" + field.name + "_error");
        var mine = errors.filter(function (e) { return e.field === field.name; });
        if (box) {
          box.hidden = mine.length === 0;
          box.textContent = mine.map(function (e) { return e.message; }).join(" ");
        }
        var described = (field.getAttribute("aria-describedby") || "").split(" ")
          .filter(function (id) { return id && id !== "live_" + field.name + "_error"; });
        if (mine.length) {
          described.push("live_" + field.name + "_error");
          field.setAttribute("aria-invalid", "true");
        } else if (!document.getElementById("id_" + field.name + "_error")) {
          field.removeAttribute("aria-invalid");
        }
        if (described.length) field.setAttribute("aria-describedby", described.join(" "));
      });
    }

    function showPreview(body) {
      out.text.textContent = body.text;
      if (out.subject) out.subject.textContent = body.subject;
      if (out.data) out.data.textContent = body.sample_data ? data.labelSample : "";
      out.warnings.replaceChildren.apply(out.warnings, body.warnings.map(function (w) {
        var li = document.createElement("li");
        li.className = "notice";
        li.textContent = w;
        return li;
      }));
      if (out.longName) {
        out.longName.textContent = body.long_name
          ? format(data.labelLong, { name: body.long_name.name, parts: body.long_name.segments })
          : "";
      }
      showCount(body.text);
    }

    function refresh() {
      var mine = ++sequence;
      var payload = new FormData();
      payload.append("csrfmiddlewaretoken", form.elements.csrfmiddlewaretoken.value);
      payload.append("kind", data.kind);
      payload.append("channel", data.channel);
      payload.append("language", data.language);
      fields.forEach(function (field) { payload.append(field.name, field.value); });
      if (patientId()) payload.append("patient_id", patientId());
      fetch(data.previewUrl, { method: "POST", body: payload, credentials: "same-origin" })
        .then(function (response) {
          return response.json().then(function (body) { return [response.status, body]; });
        })
        .then(function (result) {
          if (mine !== sequence) return; // an older answer arriving late
          if (result[0] === 422) {
            showErrors(result[1].errors || []);
            if (out.data) out.data.textContent = data.labelProblem;
            return;
          }
          showErrors([]);
          showPreview(result[1]);
        })
        .catch(function () { /* offline: the preview stays as it was */ });
    }

    function schedule() {
      clearTimeout(timer);
      timer = setTimeout(refresh, 200);
    }

    fields.forEach(function (field) { field.addEventListener("input", schedule); });
    form.addEventListener("change", function (event) {
      if (event.target.name === "preview_patient") refresh();
    });
    if (out.text) showCount(out.text.textContent);
    form.dataset.ready = "1";
  });
})();
