// Agent console behaviour: live updates (SSE), alerts for new chats, heartbeat, window countdown.
// Customer text only ever reaches the page through server-escaped HTML or textContent.
"use strict";

(function () {
  const csrfToken = () => document.querySelector('meta[name="csrf-token"]').content;

  async function post(url, data) {
    const body = new URLSearchParams(data || {});
    const response = await fetch(url, {
      method: "POST",
      body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), "Accept": "application/json" },
    });
    signedOut(response);
    let payload = {};
    try { payload = await response.json(); } catch (e) { /* non-JSON error page */ }
    return { ok: response.ok, status: response.status, data: payload };
  }

  // The sign-in ended (signed out elsewhere, or used from another network or browser): 401, or a
  // redirect to the login page from browsers that do not mark fetches. Reloading shows the login
  // page, which says why. Once: two requests in flight (the heartbeat and a click) both get the
  // 401, and a second reload would load the login page again, after the first had shown (and so
  // used up) that message.
  let reloading = false;
  function signedOut(response) {
    if (response.status === 401 || (response.redirected && response.url.includes("/login"))) {
      if (!reloading) {
        reloading = true;
        window.location.reload();
      }
      return true;
    }
    return false;
  }

  async function fetchHtml(url) {
    const response = await fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } });
    if (signedOut(response)) return null;
    return response.ok ? response.text() : null;
  }

  let toastTimer = null;
  function toast(message, kind) {
    const el = document.getElementById("toast");
    if (!el) return;
    el.textContent = message;
    el.className = "toast toast-" + (kind || "info");
    el.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { el.hidden = true; }, 6000);
  }

  function formatDuration(ms) {
    const total = Math.max(0, Math.floor(ms / 1000));
    const h = Math.floor(total / 3600), m = Math.floor((total % 3600) / 60);
    if (h) return h + "h " + String(m).padStart(2, "0") + "m";
    if (m) return m + "m";
    return total + "s";
  }

  // Server time minus browser time, so countdowns follow the server's clock.
  function skewFrom(el) {
    const now = el && el.dataset.now ? Date.parse(el.dataset.now) : NaN;
    return isNaN(now) ? 0 : now - Date.now();
  }

  // ---- sound & notifications -------------------------------------------------------------
  let audio = null;
  function unlockAudio() {
    if (!audio && (window.AudioContext || window.webkitAudioContext)) {
      audio = new (window.AudioContext || window.webkitAudioContext)();
    }
  }
  document.addEventListener("pointerdown", unlockAudio, { once: true });
  document.addEventListener("keydown", unlockAudio, { once: true });

  // A two-note chime rendered as raw PCM samples: no audio file to download or host.
  function chime() {
    if (!audio) return;
    const rate = audio.sampleRate, seconds = 0.35;
    const buffer = audio.createBuffer(1, Math.floor(rate * seconds), rate);
    const samples = buffer.getChannelData(0);
    for (let i = 0; i < samples.length; i++) {
      const t = i / rate, freq = t < seconds / 2 ? 880 : 1320;
      const envelope = Math.exp(-8 * ((t % (seconds / 2)) / (seconds / 2)));
      samples[i] = 0.25 * envelope * Math.sin(2 * Math.PI * freq * t);
    }
    const source = audio.createBufferSource();
    source.buffer = buffer;
    source.connect(audio.destination);
    source.start();
  }

  // onlyWhenHidden: a customer's reply in the chat already on screen needs no system popup.
  function notify(title, body, onlyWhenHidden) {
    chime();
    if ("Notification" in window && Notification.permission === "granted" && (!onlyWhenHidden || document.hidden)) {
      const n = new Notification(title, { body, tag: "alba-queue" });
      n.onclick = () => { window.focus(); n.close(); };
    }
  }

  function setupNotificationButton() {
    const button = document.getElementById("enable-notifications");
    if (!button || !("Notification" in window) || Notification.permission !== "default") return;
    button.hidden = false;
    button.addEventListener("click", async () => {
      unlockAudio();
      await Notification.requestPermission();
      button.hidden = true;
    });
  }

  // ---- online toggle & heartbeat ---------------------------------------------------------
  // The desk's offline notice (_offline_notice.html, outside the part a chat switch swaps): its
  // button works the switch, and it follows the switch once the server has answered.
  function setupOfflineNotice(toggle) {
    const notice = document.getElementById("offline-notice");
    if (!notice) return () => {};
    notice.querySelector("form").addEventListener("submit", (e) => {
      e.preventDefault();
      if (toggle.checked) return;
      toggle.checked = true;
      toggle.dispatchEvent(new Event("change"));
    });
    return (online) => { notice.hidden = online; };
  }

  function setupPresence() {
    const toggle = document.getElementById("online-toggle");
    if (!toggle) return;
    const label = document.getElementById("online-label");
    const showOnline = setupOfflineNotice(toggle);
    toggle.addEventListener("change", async () => {
      const result = await post(toggle.dataset.url, { online: toggle.checked ? "1" : "0" });
      if (!result.ok) {
        toggle.checked = !toggle.checked;
        toast(result.data.error || "Could not change your status.", "error");
      }
      label.textContent = toggle.checked ? "Online" : "Offline";
      showOnline(toggle.checked);
    });
    const beat = () => post(toggle.dataset.heartbeatUrl).catch(() => {});
    beat();
    setInterval(beat, 30000);
  }

  // ---- live events -------------------------------------------------------------------------
  // One stream per page, however many parts listen (the queue, the open chat, the chat list):
  // each subscriber gets (type, data), and other scripts get a `console:live` event on document
  // with the same {type, data} as its detail. "open" means: catch up on what may have been missed.
  const liveHandlers = new Set();
  let liveOn = false;
  function showLive() {
    const live = document.getElementById("live-status");
    if (live) live.classList.toggle("on", liveOn);
  }
  function dispatchLive(type, data) {
    liveHandlers.forEach((fn) => fn(type, data));
    document.dispatchEvent(new CustomEvent("console:live", { detail: { type, data } }));
  }
  let liveStarted = false;
  function startLive() {
    const url = document.body.dataset.eventsUrl;
    if (liveStarted || !url || !window.EventSource) return;
    liveStarted = true;
    let delay = 3000;
    function open() {
      const source = new EventSource(url);
      source.onopen = () => {
        delay = 3000;
        liveOn = true;
        showLive();
        // Anything published while we were (re)connecting was not delivered: catch up once.
        dispatchLive("open", {});
      };
      source.onerror = () => {
        liveOn = false;
        showLive();
        // The browser retries a dropped stream by itself, but after an HTTP error or a
        // non-stream answer (a 500 while Redis restarts, a proxy page) it stops for good.
        if (source.readyState === EventSource.CLOSED) {
          setTimeout(open, delay);
          delay = Math.min(delay * 2, 60000);
        }
      };
      for (const type of ["handoff", "customer", "delivery"]) {
        source.addEventListener(type, (e) => {
          let data = {};
          try { data = JSON.parse(e.data); } catch (err) { /* ignore malformed */ }
          dispatchLive(type, data);
        });
      }
    }
    open();
  }

  // Returns the unsubscribe function.
  function connectEvents(onEvent) {
    liveHandlers.add(onEvent);
    return () => liveHandlers.delete(onEvent);
  }

  function debounce(fn, ms) {
    let timer = null;
    return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
  }

  // ---- queue page --------------------------------------------------------------------------
  function waitingIds(root) {
    return new Set([...root.querySelectorAll("#waiting-table tr[data-conversation]")].map((r) => r.dataset.conversation));
  }

  function tickWaiting(root) {
    const skew = skewFrom(root.querySelector("#queue-now"));
    root.querySelectorAll("td.since[data-since]").forEach((cell) => {
      const since = Date.parse(cell.dataset.since);
      if (!isNaN(since)) cell.textContent = formatDuration(Date.now() + skew - since);
    });
  }

  function setupQueue() {
    const root = document.getElementById("queue-tables");
    if (!root) return;
    setupNotificationButton();
    let known = waitingIds(root);

    const refresh = debounce(async () => {
      const html = await fetchHtml(root.dataset.partialUrl);
      if (html === null) return;
      root.innerHTML = html;
      const now = waitingIds(root);
      const arrived = [...now].filter((id) => !known.has(id));
      known = now;
      tickWaiting(root);
      if (arrived.length) {
        const row = root.querySelector('#waiting-table tr[data-conversation="' + CSS.escape(arrived[0]) + '"] strong');
        notify("New chat waiting", (row ? row.textContent : "A customer") + " needs an agent");
      }
    }, 250);

    // A delivery status (ticks) changes nothing in the queue.
    connectEvents((type) => { if (type !== "delivery") refresh(); });
    setInterval(() => tickWaiting(root), 15000);
    // Claims go through fetch so the loser of a race gets the answer in place.
    root.addEventListener("submit", async (e) => {
      const form = e.target.closest(".claim-form");
      if (!form) return;
      e.preventDefault();
      const button = form.querySelector("button");
      button.disabled = true;
      const result = await post(form.action);
      if (result.ok && result.data.url) { window.location.href = result.data.url; return; }
      toast(result.data.error || "Could not claim this chat.", "warning");
      refresh();
    });
  }

  // ---- conversation page -------------------------------------------------------------------
  function scrollHistory() {
    const history = document.getElementById("history");
    if (history) history.scrollTop = history.scrollHeight;
  }

  // Returns {refreshWindow, stop} (stop ends its countdown), or null on a read-only chat.
  function setupComposer() {
    const composer = document.getElementById("composer");
    if (!composer) return null;
    const text = document.getElementById("reply-text");
    const send = document.getElementById("reply-send");
    const canned = document.getElementById("canned-select");
    const bar = document.getElementById("window-bar");
    const countdown = document.getElementById("window-countdown");
    const templateBox = document.getElementById("template-box");
    let closesAt = Date.parse(composer.dataset.closesAt);
    let skew = skewFrom(composer);
    let open = composer.dataset.open === "true";

    function setMode(isOpen, reason) {
      open = isOpen;
      text.disabled = send.disabled = canned.disabled = !isOpen;
      bar.classList.toggle("open", isOpen);
      bar.classList.toggle("closed", !isOpen);
      if (!isOpen) {
        text.placeholder = "Free-form replies are not allowed outside the 24-hour window.";
        countdown.textContent = "24-hour window closed" + (reason ? " (" + reason + ")" : "") + ": only approved templates can be sent.";
        templateBox.open = true;
      } else {
        text.placeholder = "Write a reply…";
      }
    }

    function tick() {
      if (!open || isNaN(closesAt)) return;
      const left = closesAt - (Date.now() + skew);
      if (left <= 0) { setMode(false, "expired"); return; }
      countdown.textContent = "Window closes in " + formatDuration(left);
      bar.classList.toggle("soon", left < 3600 * 1000);
    }
    tick();
    const ticker = setInterval(tick, 1000);

    canned.addEventListener("change", () => {
      if (!canned.value) return;
      const snippet = canned.value.split("{agent}").join(document.body.dataset.agent || "");
      const start = text.selectionStart ?? text.value.length, end = text.selectionEnd ?? text.value.length;
      text.value = text.value.slice(0, start) + snippet + text.value.slice(end);
      canned.value = "";
      text.focus();
      text.setSelectionRange(start + snippet.length, start + snippet.length);
    });

    text.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey) && !send.disabled) {
        e.preventDefault();
        document.getElementById("reply-form").requestSubmit();
      }
    });

    let stopped = false;
    async function refreshWindow(url) {
      const response = await fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } });
      signedOut(response);
      if (!response.ok || stopped) return;
      const status = await response.json();
      closesAt = Date.parse(status.closes_at);
      skew = Date.parse(status.now) - Date.now();
      setMode(status.open, status.reason);
      tick();
    }
    return { refreshWindow, stop() { stopped = true; clearInterval(ticker); } };
  }

  function setupTemplatePicker() {
    const select = document.getElementById("template-select");
    if (!select) return;
    const preview = document.getElementById("template-preview");
    const params = [...document.querySelectorAll("#template-params .param")];
    function update() {
      const option = select.selectedOptions[0];
      // [{name, type, hint, example}] for each parameter, header's first (connector/policy/templates.py).
      const declared = option && option.dataset.params ? JSON.parse(option.dataset.params) : [];
      let text = option ? option.dataset.preview || "" : "";
      params.forEach((label) => {
        const index = Number(label.dataset.index);
        const param = declared[index - 1];
        const input = label.querySelector("input");
        label.hidden = !param;
        input.disabled = !param;
        input.required = Boolean(param);
        if (param) {
          label.querySelector(".param-name").textContent = param.name + " (" + param.hint + ")";
          input.placeholder = param.example || "";
          input.dataset.type = param.type;
        }
        const value = input.value.trim();
        text = text.split("[[" + index + "]]").join(value || "[" + (param ? param.name : index) + "]");
      });
      preview.textContent = text;
      const hint = document.getElementById("marketing-hint");
      if (hint) hint.hidden = !(option && option.dataset.category === "marketing" && hint.dataset.optin !== "opted_in");
    }
    select.addEventListener("change", update);
    params.forEach((label) => label.querySelector("input").addEventListener("input", update));
    update();
  }

  // Handoff events (bot/handoff_lua) that change who may act on the open chat.
  const STATE_CHANGES = ["transferred", "requeued", "resolved", "returned", "cancelled"];

  // Our own resolve/transfer publishes events too; once a form is on its way, let it finish.
  let leaving = false;
  document.addEventListener("submit", () => { leaving = true; });
  window.addEventListener("pageshow", () => { leaving = false; });

  // The open chat's wiring; desk.js swaps another chat in without a reload, so it is set up
  // again on console:navigated, and the previous chat's timers and listener end first.
  let endConversation = null;
  function setupConversation() {
    if (endConversation) { endConversation(); endConversation = null; }
    leaving = false;
    showLive();
    const root = document.getElementById("conversation");
    if (!root) return;
    scrollHistory();
    setupTemplatePicker();
    const composer = setupComposer();
    const id = root.dataset.conversation;
    let current = true;
    const timers = new Set();

    const refresh = debounce(async () => {
      if (!current) return;
      const html = await fetchHtml(root.dataset.historyUrl);
      if (!current) return;  // another chat was swapped in meanwhile: this history is not its
      if (html !== null) {
        document.getElementById("history").innerHTML = html;
        scrollHistory();
      }
      if (composer) composer.refreshWindow(root.dataset.windowUrl);
    }, 300);

    const text = document.getElementById("reply-text");
    const unsubscribe = connectEvents((type, data) => {
      if (leaving || (data.conversation_id && data.conversation_id !== id)) return;
      if (type === "handoff" && data.conversation_id === id && STATE_CHANGES.includes(data.type)) {
        // Transferred, requeued or resolved elsewhere: the actions on this page may no longer apply.
        if (!text || !text.value.trim()) { window.location.reload(); return; }
        toast("This chat changed (" + (data.type || "update") + "). Reload to see who has it now.", "warning");
      }
      refresh();
      // The connector publishes before Rasa has logged the message; look again shortly after.
      if (type !== "delivery") {
        const again = setTimeout(() => { timers.delete(again); refresh(); }, 2000);
        timers.add(again);
      }
      if (type === "customer" && data.conversation_id === id) notify("New message", "The customer wrote again", true);
    });
    endConversation = () => {
      current = false;
      unsubscribe();
      timers.forEach(clearTimeout);
      if (composer) composer.stop();
    };
  }

  // ---- navigation menu (narrow screens) ------------------------------------------------------
  function setupNavMenu() {
    const button = document.getElementById("nav-toggle");
    const bar = document.getElementById("topbar");
    if (!button || !bar) return;
    button.addEventListener("click", () => {
      const open = !bar.classList.contains("nav-open");
      bar.classList.toggle("nav-open", open);
      button.setAttribute("aria-expanded", String(open));
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    setupPresence();
    setupNavMenu();
    setupQueue();
    setupConversation();
    startLive();
  });
  document.addEventListener("console:navigated", setupConversation);
})();
