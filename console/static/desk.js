// The desk: the chat list beside the open conversation, switching chats without a reload, and
// keyboard shortcuts. After swapping a chat in it dispatches `console:navigated` on document, so
// every script that wires up the conversation sets itself up again (console.js does).
// Customer text only reaches the page as server-escaped HTML or through textContent.
"use strict";

(function () {
  // The one list of shortcuts: the key handler and the "?" overlay both read it.
  const SHORTCUTS = [
    { key: "j", label: "Next chat", run: () => step(1) },
    { key: "k", label: "Previous chat", run: () => step(-1) },
    { key: "c", label: "Claim this chat (when it is waiting)", run: () => submit("claim-form") },
    { key: "e", label: "Resolve this chat", run: () => submit("resolve-form") },
    { key: "s", label: "Pick a canned reply", run: () => focus("canned-select") },
    { key: "r", label: "Write a reply", run: () => focus("reply-text") },
    { key: "?", label: "Show or hide this help", run: () => toggleHelp() },
  ];

  const list = () => document.getElementById("chat-list");
  const rows = () => [...document.querySelectorAll("#chat-list .chat-row")];
  const openId = () => {
    const conversation = document.getElementById("conversation");
    return conversation ? conversation.dataset.conversation : null;
  };

  function debounce(fn, ms) {
    let timer = null;
    return () => { clearTimeout(timer); timer = setTimeout(fn, ms); };
  }

  // The open chat's row is marked, and shows no unread count: the agent is reading it.
  function markActive() {
    const id = openId();
    rows().forEach((row) => {
      const active = row.dataset.conversation === id;
      row.classList.toggle("active", active);
      if (active) {
        row.setAttribute("aria-current", "page");
        row.classList.remove("unread");
        const badge = row.querySelector(".unread-count");
        if (badge) badge.hidden = true;
      } else {
        row.removeAttribute("aria-current");
      }
    });
  }

  function replaceList(body) {
    const current = document.getElementById("chat-list-body");
    if (!current) return;
    const hadFocus = current.contains(document.activeElement);
    current.replaceWith(document.importNode(body, true));
    markActive();
    if (hadFocus) {
      const active = document.querySelector("#chat-list .chat-row.active");
      if (active) active.focus();
    }
  }

  async function fetchPage(url) {
    const response = await fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } });
    // Signed out, or an error page: let the browser load it for real and show why.
    if (!response.ok || (response.redirected && response.url.includes("/login"))) return null;
    return { url: response.url, doc: new DOMParser().parseFromString(await response.text(), "text/html") };
  }

  const refreshList = debounce(async () => {
    const box = list();
    if (!box) return;
    let page = null;
    try { page = await fetchPage(box.dataset.partialUrl); } catch (e) { return; }
    const body = page && page.doc.getElementById("chat-list-body");
    if (body) replaceList(body);
  }, 250);

  // ---- switching chats -------------------------------------------------------------------
  let navigation = 0;
  async function openChat(url, push) {
    const mine = ++navigation;
    let page = null;
    try { page = await fetchPage(url); } catch (e) { page = null; }
    if (mine !== navigation) return;  // a later click won
    const main = page && page.doc.getElementById("desk-main");
    const here = document.getElementById("desk-main");
    if (!main || !here) { window.location.href = url; return; }
    here.replaceWith(document.importNode(main, true));
    const flashes = page.doc.getElementById("flashes"), oldFlashes = document.getElementById("flashes");
    if (flashes && oldFlashes) oldFlashes.replaceWith(document.importNode(flashes, true));
    const body = page.doc.getElementById("chat-list-body");
    if (body) replaceList(body);
    document.title = page.doc.title;
    if (push) history.pushState({ desk: true }, "", page.url);
    markActive();
    document.dispatchEvent(new Event("console:navigated"));
  }

  function step(by) {
    const all = rows();
    if (!all.length) return;
    const at = all.findIndex((row) => row.dataset.conversation === openId());
    const next = all[at === -1 ? 0 : Math.min(Math.max(at + by, 0), all.length - 1)];
    if (next.dataset.conversation === openId()) return;
    next.focus();
    openChat(next.href, true);
  }

  // requestSubmit fires the form's submit event, so whatever listens to it (a confirmation
  // before resolving) still runs.
  function submit(id) {
    const form = document.getElementById(id);
    if (form) form.requestSubmit();
  }

  function focus(id) {
    const field = document.getElementById(id);
    if (field && !field.disabled) field.focus();
  }

  // ---- shortcuts and their help --------------------------------------------------------------
  let help = null;
  function toggleHelp(show) {
    if (!help) {
      help = document.createElement("div");
      help.id = "shortcut-help";
      help.className = "shortcut-help";
      help.setAttribute("role", "dialog");
      help.setAttribute("aria-label", "Keyboard shortcuts");
      const card = document.createElement("div");
      card.className = "card";
      const title = document.createElement("h2");
      title.textContent = "Keyboard shortcuts";
      const table = document.createElement("dl");
      for (const s of SHORTCUTS) {
        const dt = document.createElement("dt"), kbd = document.createElement("kbd"), dd = document.createElement("dd");
        kbd.textContent = s.key;
        dt.appendChild(kbd);
        dd.textContent = s.label;
        table.append(dt, dd);
      }
      const note = document.createElement("p");
      note.className = "muted small";
      note.textContent = "Not while typing in a field: press Esc to leave it first.";
      card.append(title, table, note);
      help.appendChild(card);
      help.hidden = true;
      help.addEventListener("click", (e) => { if (e.target === help) toggleHelp(false); });
      document.body.appendChild(help);
    }
    help.hidden = show === undefined ? !help.hidden : !show;
  }

  function typing(target) {
    return target && (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
  }

  function onKey(e) {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === "Escape") {
      if (help && !help.hidden) { toggleHelp(false); return; }
      if (typing(e.target)) e.target.blur();
      return;
    }
    if (typing(e.target)) return;
    const shortcut = SHORTCUTS.find((s) => s.key === e.key);
    if (!shortcut) return;
    e.preventDefault();
    if (help && !help.hidden && shortcut.key !== "?") toggleHelp(false);
    shortcut.run();
  }

  function setup() {
    const box = list();
    if (!box) return;
    markActive();
    history.replaceState({ desk: true }, "");
    box.addEventListener("click", (e) => {
      const row = e.target.closest(".chat-row");
      // A new tab or window (modifier keys, middle button) keeps the browser's own behaviour.
      if (!row || e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey || e.altKey) return;
      e.preventDefault();
      if (row.dataset.conversation !== openId()) openChat(row.href, true);
    });
    window.addEventListener("popstate", () => {
      if (/^\/c\//.test(location.pathname)) openChat(location.href, false);
      else window.location.reload();
    });
    document.addEventListener("keydown", onKey);
    document.addEventListener("console:live", refreshList);
    // The rows' times and windows are as of the last refresh; once a minute keeps them true.
    setInterval(refreshList, 60000);
  }

  document.addEventListener("DOMContentLoaded", setup);
})();
