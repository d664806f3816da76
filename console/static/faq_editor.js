// The FAQ editor: live WhatsApp preview of each answer (server-rendered and escaped, fetched as
// HTML) and a running count of the examples. Without this script the page still works: the
// Preview button re-renders it on the server.
"use strict";

(function () {
  const csrfToken = () => document.querySelector('meta[name="csrf-token"]').content;

  function debounce(fn, ms) {
    let timer = null;
    return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
  }

  async function refreshPreview(form, section) {
    const language = section.dataset.language;
    const body = new URLSearchParams();
    body.append("language", language);
    body.append("answer", section.querySelector(`textarea[name="answer.${language}"]`).value);
    section.querySelectorAll(`input[name="buttons.${language}.title"]`).forEach((el) => body.append("title", el.value));
    const response = await fetch(form.dataset.previewUrl, {
      method: "POST", body, credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), "Accept": "text/html" },
    });
    if (response.status === 401) { window.location.reload(); return; }
    if (!response.ok) return;
    // The fragment is our own template's output: the server escaped everything the lead typed.
    document.getElementById(`preview-${language}`).innerHTML = await response.text();
  }

  function countLines(textarea) {
    return textarea.value.split("\n").filter((line) => line.trim()).length;
  }

  document.addEventListener("DOMContentLoaded", () => {
    const form = document.getElementById("faq-form");
    if (!form) return;
    form.querySelectorAll(".faq-language").forEach((section) => {
      const update = debounce(() => refreshPreview(form, section), 250);
      section.querySelectorAll("textarea.answer, input[name$='.title']").forEach((el) => el.addEventListener("input", update));
      section.querySelectorAll("textarea[name^='examples.']").forEach((el) => {
        const badge = section.querySelector(`[data-count-for="${el.name}"]`);
        el.addEventListener("input", () => { badge.textContent = String(countLines(el)); });
      });
    });
  });
})();
