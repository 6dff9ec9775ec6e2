// Progressive extras only: every page works without JavaScript.
document.addEventListener("DOMContentLoaded", () => {
  // API key page: a copy button next to the key shown once.
  for (const button of document.querySelectorAll("button[data-copy]")) {
    const field = document.getElementById(button.dataset.copy);
    if (!field || !navigator.clipboard) continue;
    button.hidden = false;
    button.addEventListener("click", async () => {
      await navigator.clipboard.writeText(field.value);
      button.textContent = button.dataset.copied;
    });
  }
  // Patient form: the channel order only matters when "for this patient" is chosen.
  const radios = document.querySelectorAll("input[name=channels]");
  const order = document.querySelectorAll(".order select");
  const sync = () => {
    const own = document.querySelector("input[name=channels][value=own]");
    for (const select of order) select.disabled = own && !own.checked;
  };
  if (radios.length && order.length) {
    for (const radio of radios) radio.addEventListener("change", sync);
    sync();
  }
  // New message: the test-mode banner follows the chosen channel.
  const banner = document.getElementById("test-mode-banner");
  const channel = document.querySelector("form.compose select[name=channel]");
  if (banner && channel) {
    const testChannels = (banner.dataset.testChannels || "").split(" ");
    const show = () => { banner.hidden = !testChannels.includes(channel.value); };
    channel.addEventListener("change", show);
    show();
  }
  // New message: encoding, SMS parts and cost live while typing (web/sms-counter.js, the
  // same rules as the server; the server's count on sending is the one charged).
  const live = document.getElementById("sms-live");
  const text = document.querySelector("form.compose textarea[name=text]");
  if (live && text && channel && typeof globalThis.praxisboteAnalyzeSms === "function") {
    const price = Number(live.dataset.price || "0");
    const smartOn = live.dataset.smart === "1";
    const lang = document.documentElement.lang || undefined;
    const money = new Intl.NumberFormat(lang, { minimumFractionDigits: 2, maximumFractionDigits: 4 });
    const out = (name) => live.querySelector(`[data-sms="${name}"]`);
    const update = () => {
      live.hidden = channel.value !== "sms";
      if (live.hidden) return;
      const a = globalThis.praxisboteAnalyzeSms(text.value, smartOn);
      out("encoding").textContent = a.encoding;
      out("characters").textContent = a.characters;
      out("segments").textContent = a.segments;
      out("remaining").textContent = a.remaining_in_segment;
      out("cost").textContent = money.format(a.segments * price);
      out("nongsm").textContent = a.non_gsm_characters.join(" ");
      out("nongsm-line").hidden = a.non_gsm_characters.length === 0;
      const changes = a.smart.enabled && a.smart.applies ? a.smart.changes : [];
      out("smart").textContent = changes.map((c) => `${c.from} → ${c.to}`).join(", ");
      out("smart-line").hidden = changes.length === 0;
    };
    text.addEventListener("input", update);
    channel.addEventListener("change", update);
    update();
  }
  // SMS settings: show the chosen gateway's credentials only.
  const gatewaySelect = document.querySelector("form.sms-settings select[name=gateway]");
  if (gatewaySelect) {
    const showGateway = () => {
      for (const set of document.querySelectorAll("fieldset.gateway")) {
        set.hidden = set.dataset.gateway !== gatewaySelect.value;
      }
    };
    gatewaySelect.addEventListener("change", showGateway);
    showGateway();
  }
  // Reminder rules: "Add a reminder" and "Remove" for the lead-time rows. Without
  // JavaScript the page offers one empty row, and emptying a row removes that reminder.
  for (const box of document.querySelectorAll("[data-lead-times]")) {
    const list = box.querySelector(".lead-rows");
    const add = box.querySelector("[data-add-lead]");
    const first = list && list.querySelector(".lead-row");
    if (!add || !first) continue; // read-only
    const base = first.querySelector("input").id.replace(/_\d+$/, "");
    const blank = first.cloneNode(true);
    const blankInput = blank.querySelector("input");
    blankInput.removeAttribute("value");
    blankInput.removeAttribute("aria-invalid");
    for (const option of blank.querySelectorAll("option")) option.removeAttribute("selected");
    blank.querySelector("option").setAttribute("selected", ""); // hours: clones keep attributes
    const renumber = () => {
      const rows = list.querySelectorAll(".lead-row");
      rows.forEach((row, i) => {
        const n = String(i + 1);
        const input = row.querySelector("input");
        input.id = `${base}_${i}`;
        const label = row.querySelector("label");
        label.htmlFor = input.id;
        label.textContent = box.dataset.label.replace("%(n)d", n);
        row.querySelector("select").setAttribute("aria-label", box.dataset.unitLabel.replace("%(n)d", n));
      });
      add.hidden = rows.length >= Number(box.dataset.max);
    };
    const wire = (row) => {
      const remove = row.querySelector("[data-remove-lead]");
      remove.hidden = false;
      remove.addEventListener("click", () => { row.remove(); renumber(); add.focus(); });
    };
    for (const row of list.querySelectorAll(".lead-row")) {
      if (row.querySelector("input").getAttribute("value")) wire(row);
      else row.remove();
    }
    add.addEventListener("click", () => {
      const row = blank.cloneNode(true);
      list.append(row);
      wire(row);
      renumber();
      row.querySelector("input").focus();
    });
    renumber();
  }
  // Mass cancellation: a day's "all" / "none" ticks its boxes here; without JavaScript the
  // button asks the server to show the page again with them ticked.
  for (const button of document.querySelectorAll("form.mass-cancel button[data-select]")) {
    button.addEventListener("click", (event) => {
      const day = document.getElementById(button.dataset.day);
      if (!day) return;
      event.preventDefault();
      for (const box of day.querySelectorAll("input[name=appointment]")) {
        box.checked = button.dataset.select === "all";
      }
    });
  }
  // After a failed save, take keyboard and screen reader users to the list of problems.
  const summary = document.querySelector(".error-summary");
  if (summary) summary.focus();
});
