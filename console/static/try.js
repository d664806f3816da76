// Try it: sends the question, then polls its answer until the publish worker has given it,
// saying meanwhile what it waits for (a publish, the draft model's build).
(function () {
  "use strict";
  const form = document.getElementById("try-form");
  if (!form) return;
  const status = document.getElementById("try-status");
  const result = document.getElementById("try-result");
  const csrfToken = () => document.querySelector('meta[name="csrf-token"]').content;
  let asked = 0;

  function say(text) {
    status.textContent = text;
    status.hidden = !text;
  }

  async function poll(url, mine) {
    if (mine !== asked) return; // a newer question replaced this one
    try {
      const response = await fetch(url, { headers: { "Accept": "application/json" } });
      if (response.status === 404) { say("The question expired; ask it again."); return; }
      if (response.ok) {
        const body = await response.json();
        if (body.html !== undefined) {
          say("");
          result.innerHTML = body.html; // rendered and escaped by the server
          return;
        }
        say(body.waiting);
      }
    } catch (error) { /* the next poll tries again */ }
    setTimeout(() => poll(url, mine), 700);
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const mine = ++asked;
    say("Asking the draft model…");
    try {
      const response = await fetch(form.action, {
        method: "POST",
        headers: { "X-CSRFToken": csrfToken(), "Accept": "application/json" },
        body: new FormData(form),
      });
      const body = await response.json();
      if (!response.ok) { say(body.error || "The question could not be sent."); return; }
      poll(body.url, mine);
    } catch (error) {
      say("The console could not be reached; try again.");
    }
  });
})();
