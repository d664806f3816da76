// Files in the conversation: why a file did not load (asked from the proxy's info URL and shown
// in its bubble), a document's size, and the composer's attachment checks before any upload
// (the same limits the server checks again). Text only ever reaches the page via textContent.
"use strict";

(function () {
  const MB = 1024 * 1024;

  function size(bytes) {
    return bytes >= MB ? (bytes / MB).toFixed(1) + " MB" : Math.max(1, Math.round(bytes / 1024)) + " KB";
  }

  async function info(box) {
    try {
      const response = await fetch(box.dataset.infoUrl, { credentials: "same-origin", headers: { "Accept": "application/json" } });
      const data = await response.json();
      return data;
    } catch (e) {
      return { ok: false, error: "The console could not be reached to load this file." };
    }
  }

  function showError(box, message) {
    const slot = box.querySelector(".media-error");
    if (!slot) return;
    slot.textContent = message;
    slot.hidden = false;
    box.classList.add("media-failed");
  }

  // Images and players report failures as "error" events, which do not bubble: listen in capture.
  async function onMediaError(event) {
    const box = event.target.closest && event.target.closest(".msg-media[data-info-url]");
    if (!box || box.dataset.failed) return;
    box.dataset.failed = "1";
    const data = await info(box);
    showError(box, data.ok ? "This file could not be shown; open it from the link or try again." : data.error);
  }

  // Documents whose size the history does not know (a customer's) ask for it once.
  async function fillSizes(root) {
    for (const box of root.querySelectorAll(".media-document[data-info-url]:not([data-checked])")) {
      box.dataset.checked = "1";
      const slot = box.querySelector(".media-size");
      if (!slot || slot.textContent.trim()) continue;
      const data = await info(box);
      if (data.ok) slot.textContent = size(data.file_size);
      else showError(box, data.error);
    }
  }

  function problemWith(file, caption, limits, animatedSticker) {
    const type = (file.type || "").toLowerCase();
    if (!(type in limits)) return "WhatsApp does not take files of type " + (type || "unknown") + ".";
    // A WebP sticker may be animated (500 KB); the server decides from the file itself.
    const max = type === "image/webp" ? animatedSticker : limits[type];
    if (file.size === 0) return "The file is empty.";
    if (file.size > max) return "The file is " + size(file.size) + "; WhatsApp takes " + type + " up to " + size(max) + ".";
    if (caption && /^(audio|image\/webp)/.test(type)) return "Audio and stickers cannot carry a caption on WhatsApp.";
    return null;
  }

  function setupAttach() {
    const form = document.getElementById("attach-form");
    if (!form || form.dataset.ready) return;
    form.dataset.ready = "1";
    const input = document.getElementById("attach-file");
    const caption = document.getElementById("attach-caption");
    const problem = document.getElementById("attach-problem");
    const name = document.getElementById("attach-name");
    const limits = JSON.parse(form.dataset.limits || "{}");
    const animatedSticker = Number(form.dataset.animatedStickerMax);

    function check() {
      const file = input.files[0];
      name.textContent = file ? file.name + " · " + size(file.size) : "";
      const reason = file ? problemWith(file, caption.value.trim(), limits, animatedSticker) : null;
      problem.textContent = reason ? "Not sent: " + reason : "";
      problem.hidden = !reason;
      return reason;
    }
    input.addEventListener("change", check);
    caption.addEventListener("input", check);
    form.addEventListener("submit", (e) => {
      if (check()) { e.preventDefault(); e.stopImmediatePropagation(); }
    });

    // The composer locks free text when the window closes; files follow it.
    const text = document.getElementById("reply-text");
    if (text) {
      const follow = () => { for (const el of [input, caption, document.getElementById("attach-send")]) el.disabled = text.disabled; };
      new MutationObserver(follow).observe(text, { attributes: true, attributeFilter: ["disabled"] });
    }
  }

  let watching = false;
  function init() {
    setupAttach();
    fillSizes(document);
    if (watching) return;
    watching = true;
    document.addEventListener("error", onMediaError, true);
    // The history is swapped in on live updates and chat switches: fill the new bubbles too.
    new MutationObserver(() => fillSizes(document)).observe(document.body, { childList: true, subtree: true });
  }

  document.addEventListener("DOMContentLoaded", init);
  document.addEventListener("console:navigated", init);
})();
