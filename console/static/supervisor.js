// The supervisor page's live tables.
// No customer text is handled here: the tables come as server-escaped HTML.
"use strict";

(function () {
  // ---- supervisor page: refresh the tables on handoff events and every half minute -------------
  const REFRESH_MS = 30000;

  function setupSupervisor() {
    const root = document.getElementById("supervisor-tables");
    if (!root || root.dataset.wired) return;
    root.dataset.wired = "1";
    let timer = null, pending = false;

    // Swapping the tables under an open <select> would lose the lead's choice: wait for them.
    const choosing = () => root.contains(document.activeElement) && document.activeElement.tagName === "SELECT";

    // Our own reassign publishes an event too. A refresh racing the form would answer with the
    // session cookie as it was before the form's flash message and so erase it: once a form is
    // on its way, let it finish.
    let leaving = false;
    root.addEventListener("submit", () => { leaving = true; });
    window.addEventListener("pageshow", () => { leaving = false; });

    async function refresh() {
      if (leaving) return;
      if (choosing()) { pending = true; return; }
      pending = false;
      const response = await fetch(root.dataset.partialUrl, { credentials: "same-origin", headers: { "Accept": "text/html" } });
      if (response.status === 401 || (response.redirected && response.url.includes("/login"))) {
        window.location.reload();
        return;
      }
      if (!response.ok) return;
      const html = await response.text();
      // Read and put back in one synchronous step: no choice can slip in between.
      const chosen = choices();
      root.innerHTML = html;
      restore(chosen);
    }

    // A choice made but not yet sent survives the swap while its option is still offered; else
    // the select is back on its placeholder, which the server refuses rather than guess.
    function choices() {
      const chosen = new Map();
      root.querySelectorAll("tr[data-conversation] select").forEach((select) => {
        if (select.value) chosen.set(select.closest("tr").dataset.conversation, select.value);
      });
      return chosen;
    }
    function restore(chosen) {
      root.querySelectorAll("tr[data-conversation] select").forEach((select) => {
        const value = chosen.get(select.closest("tr").dataset.conversation);
        if (value && [...select.options].some((o) => o.value === value && !o.disabled)) select.value = value;
      });
    }
    const soon = () => { clearTimeout(timer); timer = setTimeout(refresh, 250); };
    root.addEventListener("focusout", () => { if (pending) setTimeout(soon, 0); });
    setInterval(soon, REFRESH_MS);

    // console.js keeps the page's one live stream ("open" after a reconnect: catch up) and
    // passes every event on; ticks don't change these tables.
    document.addEventListener("console:live", (e) => { if (e.detail.type !== "delivery") soon(); });
  }

  document.addEventListener("DOMContentLoaded", setupSupervisor);
  document.addEventListener("console:navigated", setupSupervisor);
})();
