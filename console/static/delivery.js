// Resolve asks first when the customer's last message has no answer: the history partial marks
// it (#unanswered, console/desk/unanswered.py decides), and the server answers 409 to a resolve
// without confirm=1 anyway, so the warning shows with or without this script.
// Runs on DOMContentLoaded and again after a chat is swapped in (`console:navigated`).
"use strict";

(function () {
  function init() {
    const form = document.getElementById("resolve-form");
    const warning = document.getElementById("resolve-warning");
    if (!form || !warning || form.dataset.unansweredWired) return;
    form.dataset.unansweredWired = "1";
    form.addEventListener("submit", (e) => {
      // Read at submit time: the history is refreshed live, the page may be older.
      const pending = document.querySelector("#history #unanswered");
      if (!pending) return;
      e.preventDefault();
      e.stopPropagation();  // not sent: the page's "a form is on its way" listeners must not see it
      document.getElementById("resolve-warning-text").textContent = pending.dataset.text || "";
      warning.hidden = false;
      document.getElementById("resolve-confirm").focus();
    });
    const cancel = document.getElementById("resolve-cancel");
    if (cancel) {
      cancel.addEventListener("click", (e) => {
        e.preventDefault();
        warning.hidden = true;
      });
    }
  }

  document.addEventListener("DOMContentLoaded", init);
  document.addEventListener("console:navigated", init);
})();
