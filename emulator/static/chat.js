// The customer's phone. Every text that came from a customer or the bot is set with
// textContent (never innerHTML), so message content can't inject markup into the page.
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  var state = { phone: "", name: "", rev: null, els: {}, sigs: {}, seenSent: {}, byId: {} };
  var DEFAULT_PHONE = "5215512345678", DEFAULT_NAME = "Ana López";
  var REACTIONS = ["👍", "❤️", "😂", "😮", "😢", "🙏"];
  var PRESETS = [
    { name: "Zócalo", address: "Plaza de la Constitución S/N, Centro, Ciudad de México", latitude: 19.432608, longitude: -99.133209 },
    { name: "Ángel de la Independencia", address: "Paseo de la Reforma, Juárez, Ciudad de México", latitude: 19.426996, longitude: -99.167664 },
    { name: "Catedral de Guadalajara", address: "Av. Fray Antonio Alcalde 10, Centro, Guadalajara, Jal.", latitude: 20.676709, longitude: -103.347211 }
  ];

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function toast(msg) {
    var t = $("toast"); t.textContent = msg; t.hidden = false;
    clearTimeout(toast.timer); toast.timer = setTimeout(function () { t.hidden = true; }, 4000);
  }
  function api(method, url, body) {
    var opts = { method: method, headers: {} };
    if (body instanceof FormData) opts.body = body;
    else if (body !== undefined) { opts.body = JSON.stringify(body); opts.headers["Content-Type"] = "application/json"; }
    return fetch(url, opts).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        if (!r.ok) {
          var e = data && data.error;
          throw new Error(e ? (e.error_data && e.error_data.details) || e.message || e : "HTTP " + r.status);
        }
        return data;
      });
    });
  }
  function fmtTime(ts) {
    var d = new Date(ts * 1000);
    return ("0" + d.getHours()).slice(-2) + ":" + ("0" + d.getMinutes()).slice(-2);
  }
  function fmtDay(ts) { var d = new Date(ts * 1000); return d.getDate() + "/" + (d.getMonth() + 1); }
  function fmtPhone(p) { return p ? "+" + p : ""; }

  // ---------------------------------------------------------------- identity
  function phoneFromPath() {
    var m = location.pathname.match(/^\/chat\/([0-9]+)/);
    return m ? m[1] : null;
  }
  function openChat(phone, name) {
    phone = String(phone || "").replace(/[^0-9]/g, "");
    if (phone.length < 7 || phone.length > 15) { toast("Número inválido: usa 7 a 15 dígitos con lada, p. ej. 5215512345678"); return; }
    state.phone = phone; state.name = (name || "").trim() || DEFAULT_NAME;
    localStorage.setItem("emu.phone", phone); localStorage.setItem("emu.name", state.name);
    $("phone").value = phone; $("name").value = state.name;
    if (location.pathname !== "/chat/" + phone) history.replaceState(null, "", "/chat/" + phone);
    state.rev = null; state.els = {}; state.sigs = {}; state.byId = {};
    $("messages").textContent = "";
    poll();
  }
  function send(action) {
    action.name = state.name;
    return api("POST", "/_emulator/customers/" + state.phone + "/messages", action)
      .then(function () { poll(); })
      .catch(function (e) { toast("No se pudo enviar: " + e.message); });
  }

  // --------------------------------------------------------------- rendering
  function ticks(status) {
    var span = el("span", "ticks" + (status === "read" ? " read" : ""));
    span.textContent = status === "sent" ? "✓" : (status === "delivered" || status === "read") ? "✓✓" : "🕓";
    span.title = status;
    span.setAttribute("data-status", status);
    return span;
  }
  // WhatsApp's own formatting (*bold*, _italic_, ~strike~), as the customer's phone shows it.
  // Built from text nodes and elements, never markup, so it stays as inert as plain text.
  var FORMATS = { "*": "strong", "_": "em", "~": "s" };
  function formatted(text) {
    var frag = document.createDocumentFragment();
    var re = /([*_~])([^*_~\n]+?)\1/g, last = 0, m;
    while ((m = re.exec(text)) !== null) {
      if (m.index > last) frag.appendChild(document.createTextNode(text.slice(last, m.index)));
      frag.appendChild(el(FORMATS[m[1]], "", m[2]));
      last = re.lastIndex;
    }
    if (last < text.length) frag.appendChild(document.createTextNode(text.slice(last)));
    return frag;
  }
  function textBlock(bubble, cls, text) {
    if (!text) return;
    var div = el("div", cls);
    div.appendChild(formatted(String(text)));
    bubble.appendChild(div);
  }
  function mediaBlock(bubble, kind, media) {
    if (!media) return;
    var view = media.id ? "/_emulator/media/" + encodeURIComponent(media.id) + "/view" : null;
    if ((kind === "image" || kind === "sticker") && view) {
      var img = el("img", "media-img"); img.alt = kind === "image" ? "imagen" : "sticker"; img.src = view;
      img.onerror = function () { img.replaceWith(el("div", "", "🖼️ Imagen (id " + media.id + ")")); };
      bubble.appendChild(img);
    } else if ((kind === "audio" || kind === "video") && view) {
      var player = el(kind, "media-player"); player.controls = true; player.src = view;
      bubble.appendChild(player);
    } else if (kind === "document" && view) {
      var link = el("a", "media-doc", "📄 " + (media.filename || "Documento")); link.href = view;
      link.download = media.filename || "documento";
      bubble.appendChild(link);
    } else {
      var icon = { image: "🖼️ Imagen", video: "🎬 Video", audio: "🎵 Audio", document: "📄 Documento", sticker: "🏷️ Sticker" }[kind];
      bubble.appendChild(el("div", "", icon + (media.filename ? ": " + media.filename : "") + (media.link ? "\n" + media.link : "")));
    }
    textBlock(bubble, "", media.caption);
  }
  function quoteOf(id) {
    var target = state.byId[id];
    if (!target) return null;
    return summary(target);
  }
  function summary(m) {
    var b = m.body || {};
    if (m.direction === "out") {
      if (b.text) return b.text.body;
      if (b.interactive) return (b.interactive.body || {}).text;
      if (m.rendered) return m.rendered.body;
    } else {
      if (b.text) return b.text.body;
    }
    return m.type;
  }

  function renderOut(m, row, bubble) {
    var b = m.body || {};
    if (m.type === "text") textBlock(bubble, "", b.text.body);
    else if (m.type === "template") {
      var r = m.rendered || {};
      textBlock(bubble, "header-text", r.header); textBlock(bubble, "", r.body); textBlock(bubble, "footer-text", r.footer);
    } else if (m.type === "interactive") {
      var it = b.interactive, h = it.header;
      if (h && h.type === "text") textBlock(bubble, "header-text", h.text);
      else if (h) mediaBlock(bubble, h.type, h[h.type]);
      textBlock(bubble, "", (it.body || {}).text);
      textBlock(bubble, "footer-text", (it.footer || {}).text);
    } else if (m.type === "location") {
      var l = b.location;
      bubble.appendChild(el("div", "", "📍 " + [l.name, l.address, l.latitude + ", " + l.longitude].filter(Boolean).join("\n")));
    } else if (m.type === "contacts") {
      b.contacts.forEach(function (c) { bubble.appendChild(el("div", "", "👤 " + c.name.formatted_name)); });
    } else mediaBlock(bubble, m.type, b[m.type]);
  }
  function renderChoices(m, row) {
    var b = m.body || {};
    var box = el("div", "choices");
    if (m.type === "interactive" && b.interactive.type === "button") {
      b.interactive.action.buttons.forEach(function (btn) {
        var c = el("button", "choice", btn.reply.title); c.type = "button";
        c.setAttribute("data-button-id", btn.reply.id);
        c.onclick = function () { send({ type: "button_reply", message_id: m.id, id: btn.reply.id }); };
        box.appendChild(c);
      });
    } else if (m.type === "interactive" && b.interactive.type === "list") {
      var open = el("button", "choice", "☰ " + b.interactive.action.button); open.type = "button";
      open.setAttribute("data-list-open", m.id);
      open.onclick = function () { openList(m); };
      box.appendChild(open);
    } else if (m.type === "interactive" && b.interactive.type === "cta_url") {
      var p = b.interactive.action.parameters, a = el("a", "choice", "↗ " + p.display_text);
      if (/^https?:\/\//i.test(p.url)) { a.href = p.url; a.target = "_blank"; a.rel = "noopener noreferrer"; }
      box.appendChild(a);
    } else if (m.type === "template" && m.rendered && m.rendered.buttons.length) {
      m.rendered.buttons.forEach(function (btn, i) {
        var c = el("button", "choice", btn.text); c.type = "button";
        c.onclick = function () { send({ type: "button", message_id: m.id, index: i }); };
        box.appendChild(c);
      });
    }
    if (box.childNodes.length) row.appendChild(box);
  }
  function renderIn(m, bubble) {
    var b = m.body || {};
    if (b.context && b.context.id) { var q = quoteOf(b.context.id); if (q) bubble.appendChild(el("div", "quote", q)); }
    if (m.type === "text") textBlock(bubble, "", b.text.body);
    else if (m.type === "interactive") {
      var r = b.interactive[b.interactive.type];
      textBlock(bubble, "", r.title); textBlock(bubble, "footer-text", r.description);
    } else if (m.type === "button") textBlock(bubble, "", b.button.text);
    else if (m.type === "location") {
      var l = b.location;
      bubble.appendChild(el("div", "", "📍 " + [l.name, l.address, l.latitude + ", " + l.longitude].filter(Boolean).join("\n")));
    } else if (m.type === "image") mediaBlock(bubble, "image", b.image);
    else textBlock(bubble, "", m.type);
  }
  function reactionBar(m, row) {
    var bar = el("div", "react-bar");
    REACTIONS.forEach(function (emoji) {
      var b = el("button", "", emoji); b.type = "button";
      b.onclick = function () { bar.remove(); send({ type: "reaction", message_id: m.id, emoji: m.reaction === emoji ? "" : emoji }); };
      bar.appendChild(b);
    });
    row.appendChild(bar);
  }
  function renderMessage(m) {
    var row = el("div", "row " + m.direction + (m.status === "failed" ? " failed" : ""));
    row.setAttribute("data-id", m.id); row.setAttribute("data-type", m.type);
    var bubble = el("div", "bubble");
    if (m.direction === "out") renderOut(m, row, bubble); else renderIn(m, bubble);
    var meta = el("span", "meta", fmtTime(m.timestamp));
    if (m.direction === "in") meta.appendChild(ticks(m.status));
    bubble.appendChild(meta);
    row.appendChild(bubble);
    var mark = m.direction === "out" ? m.reaction : m.business_reaction;
    if (mark) row.appendChild(el("div", "reaction", mark));
    if (m.direction === "out") {
      renderChoices(m, row);
      if (m.status === "failed") {
        var f = el("div", "fail"); f.appendChild(el("span", "fail-icon", "!"));
        f.appendChild(el("span", "", (m.error_title || "Error") + (m.errors[0] ? " (" + m.errors[0].code + ")" : "")));
        row.appendChild(f);
      } else {
        var rb = el("button", "react-btn", "☺ reaccionar"); rb.type = "button"; rb.title = "Reaccionar";
        rb.onclick = function () { var open = row.querySelector(".react-bar"); if (open) open.remove(); else reactionBar(m, row); };
        row.appendChild(rb);
      }
    }
    return row;
  }
  function signature(m) { return [m.status, m.reaction, m.business_reaction, m.errors.length].join("|"); }

  function render(data) {
    var box = $("messages");
    var atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 60;
    var shown = data.messages.filter(function (m) { return m.type !== "reaction"; });
    data.messages.forEach(function (m) { state.byId[m.id] = m; });
    if (!shown.length && !box.childNodes.length) {
      box.appendChild(el("div", "day-note", "Escribe un mensaje para empezar. Los mensajes se envían al bot como webhooks firmados."));
    }
    var added = false;
    shown.forEach(function (m) {
      var sig = signature(m), old = state.els[m.id];
      if (old && state.sigs[m.id] === sig) return;
      var fresh = renderMessage(m);
      if (old) old.replaceWith(fresh); else {
        var note = box.querySelector(".day-note"); if (note) note.remove();
        box.appendChild(fresh); added = true;
      }
      state.els[m.id] = fresh; state.sigs[m.id] = sig;
    });
    if (atBottom || added) box.scrollTop = box.scrollHeight;
    markSeen(shown);
    var c = data.customer;
    if (c) {
      var w = c.window;
      $("window-info").textContent = "BSUID " + c.user_id + " · ventana 24 h: " +
        (w.open ? "abierta hasta el " + fmtDay(w.closes_at) + " " + fmtTime(w.closes_at) : "cerrada");
    }
  }
  function markSeen(messages) {
    if (document.visibilityState !== "visible") return;
    var ids = messages.filter(function (m) {
      return m.direction === "out" && m.status !== "read" && m.status !== "failed" && !state.seenSent[m.id + m.status];
    }).map(function (m) { state.seenSent[m.id + m.status] = true; return m.id; });
    if (ids.length) api("POST", "/_emulator/customers/" + state.phone + "/seen", { ids: ids }).catch(function () {});
  }

  // -------------------------------------------------------------- list sheet
  function openList(m) {
    var it = m.body.interactive, body = $("sheet-body");
    $("sheet-title").textContent = it.action.button;
    body.textContent = "";
    it.action.sections.forEach(function (section) {
      if (section.title) body.appendChild(el("div", "section-title", section.title));
      section.rows.forEach(function (r) {
        var b = el("button", "list-row"); b.type = "button"; b.setAttribute("data-row-id", r.id);
        var left = el("span", ""); left.appendChild(el("span", "", r.title));
        if (r.description) left.appendChild(el("span", "desc", r.description));
        b.appendChild(left); b.appendChild(el("span", "radio"));
        b.onclick = function () { $("sheet").hidden = true; send({ type: "list_reply", message_id: m.id, id: r.id }); };
        body.appendChild(b);
      });
    });
    $("sheet").hidden = false;
  }

  // ------------------------------------------------------------------ polling
  var polling = false;
  function poll() {
    if (!state.phone || polling) return;
    polling = true;
    var url = "/_emulator/customers/" + state.phone + "/chat" + (state.rev !== null ? "?rev=" + state.rev : "");
    api("GET", url).then(function (data) {
      $("biz-sub").textContent = data.typing ? "escribiendo…" : "en línea";
      if (!data.unchanged) { state.rev = data.rev; render(data); }
    }).catch(function () { $("biz-sub").textContent = "sin conexión con el emulador"; })
      .then(function () { polling = false; });
  }

  // ------------------------------------------------------------------- wiring
  function init() {
    api("GET", "/_emulator/config").then(function (cfg) {
      $("biz-name").textContent = cfg.business_name + " · " + fmtPhone(cfg.display_phone_number);
      $("avatar").textContent = (cfg.business_name || "N").trim().charAt(0).toUpperCase();
      document.title = cfg.business_name + " – WhatsApp (emulador)";
    }).catch(function () {});
    // Numbers that already chatted (or were messaged) can be picked again from the phone field.
    api("GET", "/_emulator/customers").then(function (data) {
      data.customers.forEach(function (c) {
        var o = document.createElement("option"); o.value = c.wa_id; o.label = c.name;
        $("known-customers").appendChild(o);
      });
    }).catch(function () {});
    $("identity").onsubmit = function (e) { e.preventDefault(); openChat($("phone").value, $("name").value); };
    $("composer").onsubmit = function (e) {
      e.preventDefault();
      var text = $("text").value;
      if (!text.trim() || !state.phone) return;
      $("text").value = "";
      send({ type: "text", text: text });
    };
    $("attach").onclick = function () { $("attach-menu").hidden = !$("attach-menu").hidden; };
    $("pick-image").onclick = function () { $("attach-menu").hidden = true; $("file").click(); };
    $("send-sample").onclick = function () {
      $("attach-menu").hidden = true;
      var caption = $("text").value.trim(); $("text").value = "";
      send({ type: "image", sample: true, caption: caption || undefined });
    };
    $("file").onchange = function () {
      var f = $("file").files[0]; if (!f) return;
      var form = new FormData(); form.append("file", f);
      var caption = $("text").value.trim(); $("text").value = "";
      api("POST", "/_emulator/media", form).then(function (res) {
        // The emulator says which message type the file goes as (image, document, audio…).
        return send({ type: res.type, media_id: res.id, caption: caption || undefined });
      }).catch(function (e) { toast("No se pudo enviar el archivo: " + e.message); });
      $("file").value = "";
    };
    $("open-location").onclick = function () { $("attach-menu").hidden = true; $("location").hidden = false; };
    $("location-close").onclick = function () { $("location").hidden = true; };
    $("sheet-close").onclick = function () { $("sheet").hidden = true; };
    PRESETS.forEach(function (p) {
      var b = el("button", "list-row"); b.type = "button";
      var left = el("span", ""); left.appendChild(el("span", "", "📍 " + p.name)); left.appendChild(el("span", "desc", p.address));
      b.appendChild(left);
      b.onclick = function () { $("location").hidden = true; send({ type: "location", location: { latitude: p.latitude, longitude: p.longitude, name: p.name, address: p.address } }); };
      $("location-presets").appendChild(b);
    });
    $("location-form").onsubmit = function (e) {
      e.preventDefault();
      var lat = parseFloat($("lat").value), lng = parseFloat($("long").value);
      if (isNaN(lat) || isNaN(lng) || Math.abs(lat) > 90 || Math.abs(lng) > 180) { toast("Coordenadas inválidas"); return; }
      $("location").hidden = true;
      send({ type: "location", location: { latitude: lat, longitude: lng } });
    };
    document.addEventListener("visibilitychange", function () { state.rev = null; poll(); });
    var phone = phoneFromPath() || localStorage.getItem("emu.phone") || DEFAULT_PHONE;
    openChat(phone, localStorage.getItem("emu.name") || DEFAULT_NAME);
    setInterval(poll, 1000);
  }
  init();
})();
