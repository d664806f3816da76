// Live progress of the running publish: polls its job record and fills in each stage as the
// worker reports it; reloads once the job ends, so the history and the buttons are current.
// A rollback asks first: it replaces the FAQ data, saved edits that were never published included.
(function () {
  "use strict";
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });

  const card = document.getElementById("publish-job");
  if (!card || ["published", "refused", "failed"].includes(card.dataset.state)) return;
  const DONE = ["published", "refused", "failed"];

  // A page opened while the job was still queued has no stage rows yet: the worker lists them.
  function addRow(name) {
    const row = document.createElement("tr");
    row.dataset.stage = name;
    for (const cls of ["", "stage-status", "stage-seconds"]) {
      const cell = document.createElement("td");
      if (cls) cell.className = cls;
      else cell.textContent = name;
      row.appendChild(cell);
    }
    card.querySelector("#publish-stages tbody").appendChild(row);
    return row;
  }

  function show(job) {
    document.getElementById("publish-state").textContent = job.state;
    for (const stage of job.stages) {
      const row = card.querySelector(`tr[data-stage="${CSS.escape(stage.name)}"]`) || addRow(stage.name);
      const status = row.querySelector(".stage-status");
      status.textContent = stage.status;
      status.className = `stage-status status-${stage.status}`;
      row.querySelector(".stage-seconds").textContent = stage.seconds == null ? "" : stage.seconds.toFixed(1);
    }
    const reason = document.getElementById("publish-reason");
    reason.textContent = job.reason || "";
    reason.hidden = !job.reason;
  }

  async function poll() {
    try {
      const response = await fetch(card.dataset.jobUrl, { headers: { "X-Requested-With": "fetch" } });
      if (response.ok) {
        const job = await response.json();
        show(job);
        if (DONE.includes(job.state)) { window.location.reload(); return; }
      }
    } catch (error) { /* the next poll tries again */ }
    setTimeout(poll, 1000);
  }
  setTimeout(poll, 1000);
})();
