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
  // After a failed save, take keyboard and screen reader users to the list of problems.
  const summary = document.querySelector(".error-summary");
  if (summary) summary.focus();
});
