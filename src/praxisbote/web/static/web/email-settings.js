// E-mail settings: choosing a provider fills in its server and ports and shows its remarks
// at once. Progressive only: without JavaScript the "Apply provider" button does the same on
// the server, from the same data (embedded by the page as JSON, so no strings live here).
document.addEventListener("DOMContentLoaded", () => {
  const data = document.getElementById("email-presets");
  const select = document.querySelector("form.email-settings select[name=preset]");
  const hints = document.getElementById("preset-hints");
  if (!data || !select || !hints || select.disabled) return;
  const presets = JSON.parse(data.textContent);
  const apply = document.getElementById("apply-preset");
  if (apply) apply.remove(); // choosing is enough now
  const form = select.form;
  select.addEventListener("change", () => {
    const preset = presets[select.value];
    const list = hints.querySelector("ul");
    list.replaceChildren();
    if (!preset) { hints.hidden = true; return; }
    for (const [name, value] of Object.entries(preset.values)) {
      const input = form.elements.namedItem(name);
      if (input) input.value = value === null ? "" : String(value);
    }
    for (const hint of preset.hints) {
      const item = document.createElement("li");
      item.textContent = hint;
      list.append(item);
    }
    hints.hidden = preset.hints.length === 0;
  });
});
