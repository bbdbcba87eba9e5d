// SPDX-License-Identifier: MIT
// evpn web console: plain JavaScript, no framework, no third-party code.
// It talks only to the API of the origin that served it, with the key the
// operator typed, kept in this tab's sessionStorage (never a cookie, never
// the URL) and removed on sign-out.
"use strict";

(function () {
  const KEY = "evpn.key";
  const POLL_MS = 5000;
  const $ = (id) => document.getElementById(id);

  let pollTimer = null;
  let role = null; // "admin" | "user"
  const blobs = new Map(); // slot -> object URL, revoked when replaced

  // ---- API -------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, message, code, retryAfter) {
      super(message);
      this.status = status;
      this.code = code;
      this.retryAfter = retryAfter;
    }
  }

  // fetch() with the bearer key; JSON, text or a Blob back. Errors become
  // ApiError with the API's own message.
  async function api(method, path, { body, as = "json", key } = {}) {
    const headers = { Authorization: "Bearer " + (key || sessionStorage.getItem(KEY) || "") };
    const init = { method, headers, cache: "no-store", credentials: "omit", redirect: "error" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(path, init);
    } catch (e) {
      throw new ApiError(0, "cannot reach the API (" + e.message + ")", "network");
    }
    if (!res.ok && !(as === "health" && res.status === 503)) {
      let msg = res.statusText, code = "";
      try {
        const j = await res.json();
        msg = j.error || msg;
        code = j.code || "";
      } catch (e) { /* not JSON: keep the status text */ }
      throw new ApiError(res.status, msg, code, res.headers.get("Retry-After"));
    }
    if (res.status === 204) return null;
    if (as === "text") return res.text();
    if (as === "blob") return res.blob();
    return res.json();
  }

  // The error in words, with what to do about it.
  function describe(e) {
    if (!(e instanceof ApiError)) return "Unexpected error: " + e.message;
    const m = e.message;
    switch (e.status) {
      case 0: return "Cannot reach the API: " + m;
      case 400: return "Rejected (400): " + m;
      case 401: return "Key not accepted (401): " + m + ". Check the key and sign in again.";
      case 403: return "Not allowed with this key (403): " + m;
      case 404: return "Not found (404): " + m;
      case 409: return "Conflict (409): " + m;
      case 413: return "Too large (413): " + m;
      case 429: {
        const s = parseInt(e.retryAfter, 10);
        return "Throttled (429): " + m +
          (s > 0 ? ". Try again in " + s + " s." : ".");
      }
      case 503: return "Service unavailable (503): " + m;
      default: return "Error " + e.status + ": " + m;
    }
  }

  // ---- messages --------------------------------------------------------

  function say(text, kind) {
    const el = $("msg");
    el.textContent = text;
    el.className = "msg " + (kind || "error");
    el.hidden = !text;
  }
  const fail = (e) => say(describe(e), "error");

  // ---- helpers ---------------------------------------------------------

  function fmtBytes(n) {
    if (typeof n !== "number") return "";
    const u = ["B", "KiB", "MiB", "GiB", "TiB"];
    let i = 0;
    while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
    return (i ? n.toFixed(1) : String(n)) + " " + u[i];
  }

  // A quota as it was most likely given: "1 GB" (1000^3) or "1 GiB"
  // (1024^3) when exact, else the binary form of fmtBytes.
  function fmtSize(n) {
    if (typeof n !== "number") return "";
    for (const [base, u] of [[1000, ["kB", "MB", "GB", "TB"]], [1024, ["KiB", "MiB", "GiB", "TiB"]]]) {
      for (let i = u.length - 1; i >= 0; i--) {
        const m = Math.pow(base, i + 1);
        if (n >= m && n % m === 0) return n / m + " " + u[i];
      }
    }
    return fmtBytes(n);
  }

  // "12.0 MiB of 1 GB" for a user with a quota, "none" without.
  function fmtQuota(u) {
    if (typeof u.quota !== "number") return "none";
    return fmtBytes(u.used_bytes || 0) + " of " + fmtSize(u.quota);
  }

  // "20 Mbit/s" (the API's bits per second, SI units), "(default)" when it
  // is the server's users.rate_limit; "none" without a limit.
  function fmtRate(u) {
    if (typeof u.rate_limit !== "number") return "none";
    let n = u.rate_limit, unit = "bit/s";
    for (const [m, s] of [[1e9, "Gbit/s"], [1e6, "Mbit/s"], [1e3, "kbit/s"]]) {
      if (n >= m) { n /= m; unit = s; break; }
    }
    return +n.toFixed(3) + " " + unit + (u.rate_limit_default ? " (default)" : "");
  }

  // "inactive (quota)" when the server gave a reason.
  const fmtStatus = (u) => u.status + (u.reason ? " (" + u.reason + ")" : "");

  // "2026-12-04 16:05" in the browser's time zone (the API's RFC 3339
  // value is in the cell's title).
  function fmtTime(t) {
    if (!t) return "";
    const d = new Date(t);
    if (isNaN(d)) return t;
    const p = (n) => String(n).padStart(2, "0");
    return d.getFullYear() + "-" + p(d.getMonth() + 1) + "-" + p(d.getDate()) +
      " " + p(d.getHours()) + ":" + p(d.getMinutes());
  }

  function fmtAgo(t) {
    if (!t) return "never";
    const s = Math.round((Date.now() - new Date(t).getTime()) / 1000);
    if (isNaN(s)) return t;
    if (s < 60) return Math.max(s, 0) + " s ago";
    if (s < 3600) return Math.floor(s / 60) + " min ago";
    if (s < 86400) return Math.floor(s / 3600) + " h ago";
    return fmtTime(t);
  }

  function setBlob(slot, blob) {
    const old = blobs.get(slot);
    if (old) URL.revokeObjectURL(old);
    if (!blob) { blobs.delete(slot); return ""; }
    const url = URL.createObjectURL(blob);
    blobs.set(slot, url);
    return url;
  }

  function clearBlobs() {
    for (const url of blobs.values()) URL.revokeObjectURL(url);
    blobs.clear();
  }

  // Shows a config: its text, a download link, and the QR image of `id`.
  async function showConfig(prefix, id, text, png) {
    $(prefix + "-config").textContent = text;
    const dl = $(prefix + "-download");
    dl.href = setBlob(prefix + "-download", new Blob([text], { type: "text/plain" }));
    dl.download = id + ".conf";
    const img = $(prefix + "-qr");
    img.removeAttribute("src");
    const blob = png || await api("GET", "/users/" + encodeURIComponent(id) + "/config.png", { as: "blob" });
    img.src = setBlob(prefix + "-qr", blob);
  }

  // ---- sign-in ---------------------------------------------------------

  // The master key's /health answer carries "version"; a user key's does
  // not, and a wrong key gets 401.
  async function signIn(key) {
    const h = await api("GET", "/health", { as: "health", key });
    sessionStorage.setItem(KEY, key);
    role = typeof h.version === "string" ? "admin" : "user";
    $("signin").hidden = true;
    $("key").value = "";
    $("signout").hidden = false;
    say("");
    if (role === "admin") {
      $("who").textContent = "admin";
      $("admin").hidden = false;
      await refreshUsers();
      $("c-id").focus();
    } else {
      const ids = await api("GET", "/users");
      const id = ids[0];
      $("who").textContent = id;
      $("self-id").textContent = id;
      $("self").hidden = false;
      await refreshSelf(id, true);
    }
    $("who").hidden = false;
    schedule();
  }

  function signOut(message) {
    sessionStorage.removeItem(KEY);
    role = null;
    if (pollTimer) clearTimeout(pollTimer);
    pollTimer = null;
    clearBlobs();
    for (const id of ["admin", "self", "created", "detail", "who", "signout"]) $(id).hidden = true;
    for (const id of ["created-config", "created-key", "detail-config", "self-config", "self-info", "users-body", "who"])
      $(id).textContent = "";
    rows.clear();
    for (const id of ["created-qr", "detail-qr", "self-qr"]) $(id).removeAttribute("src");
    for (const p of ["created", "detail", "self"]) hideLink(p);
    $("signin").hidden = false;
    say(message || "", "info");
    $("key").focus();
  }

  // A 401 while signed in means the key is gone (rotated or deleted).
  function handle(e) {
    if (e instanceof ApiError && e.status === 401 && role) {
      signOut(describe(e));
      return;
    }
    fail(e);
  }

  // ---- live refresh ----------------------------------------------------

  function schedule(delay = POLL_MS) {
    if (pollTimer) clearTimeout(pollTimer);
    pollTimer = setTimeout(async () => {
      pollTimer = null;
      if (!role) return;
      try {
        // A hidden tab does not poll; it catches up when shown again.
        if (document.hidden) return;
        if (role === "admin") await refreshUsers();
        else await refreshSelf($("self-id").textContent, false);
      } catch (e) {
        handle(e);
      }
      if (role) schedule();
    }, delay);
  }

  // ---- admin: users table ----------------------------------------------

  const rows = new Map(); // id -> <tr>
  const COLS = [
    ["status", "Status"], ["address", "Address"], ["created", "Created"],
    ["expires", "Expires"], ["handshake", "Last handshake"],
    ["rx", "Received"], ["tx", "Sent"], ["quota", "Quota"],
    ["rate", "Rate limit"],
  ];

  function button(text, cls, onClick) {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = text;
    if (cls) b.className = cls;
    b.addEventListener("click", onClick);
    return b;
  }

  function newRow(id) {
    const tr = document.createElement("tr");
    tr.dataset.id = id;
    const th = document.createElement("th");
    th.scope = "row";
    th.className = "c-id";
    th.textContent = id;
    tr.appendChild(th);
    for (const [k, label] of COLS) {
      const td = document.createElement("td");
      td.className = "c-" + k;
      td.dataset.label = label;
      tr.appendChild(td);
    }
    const td = document.createElement("td");
    td.className = "c-actions";
    const box = document.createElement("div");
    td.appendChild(box);
    const config = button("Config", "", () => openDetail(id));
    const del = button("Delete", "danger", () => confirmDelete(id));
    config.setAttribute("aria-label", "Config of " + id);
    del.setAttribute("aria-label", "Delete " + id);
    box.append(button("Disable", "toggle", () => toggle(id, tr)), config, del);
    tr.appendChild(td);
    return tr;
  }

  function fillRow(tr, u) {
    const set = (k, v, title) => {
      const td = tr.querySelector(".c-" + k);
      td.textContent = v;
      if (title) td.title = title; else td.removeAttribute("title");
    };
    set("status", fmtStatus(u));
    set("address", [u.address, u.address6].filter(Boolean).join(", "));
    set("created", fmtTime(u.created_at), u.created_at);
    set("expires", u.expires_at ? fmtTime(u.expires_at) : "never", u.expires_at);
    set("handshake", fmtAgo(u.last_handshake), u.last_handshake);
    set("rx", fmtBytes(u.rx_bytes));
    set("tx", fmtBytes(u.tx_bytes));
    set("quota", fmtQuota(u), typeof u.quota === "number" ? u.used_bytes + " of " + u.quota + " bytes" : "");
    set("rate", fmtRate(u), typeof u.rate_limit === "number" ? u.rate_limit + " bit/s" : "");
    tr.classList.toggle("inactive", u.status !== "active");
    const t = tr.querySelector(".toggle");
    t.textContent = u.status === "active" ? "Disable" : "Enable";
    t.setAttribute("aria-label", t.textContent + " " + u.client_id);
  }

  async function refreshUsers() {
    const ids = await api("GET", "/users");
    // Records one by one; a user deleted meanwhile (404) just drops out.
    const recs = await Promise.all(ids.map((id) =>
      api("GET", "/users/" + encodeURIComponent(id)).catch((e) => {
        if (e instanceof ApiError && e.status === 404) return null;
        throw e;
      })));
    if (role !== "admin") return;
    const body = $("users-body");
    const seen = new Set();
    for (const u of recs.filter(Boolean).sort((a, b) => a.client_id.localeCompare(b.client_id))) {
      seen.add(u.client_id);
      let tr = rows.get(u.client_id);
      if (!tr) {
        tr = newRow(u.client_id);
        rows.set(u.client_id, tr);
      }
      fillRow(tr, u);
      body.appendChild(tr); // keeps sorted order; focus stays on its button
    }
    for (const [id, tr] of rows) {
      if (!seen.has(id)) { tr.remove(); rows.delete(id); }
    }
    $("users-empty").hidden = rows.size > 0;
    $("users-updated").textContent = "updated " + new Date().toLocaleTimeString();
  }

  async function toggle(id, tr) {
    const active = !tr.classList.contains("inactive");
    try {
      const u = await api("PATCH", "/users/" + encodeURIComponent(id),
        { body: { status: active ? "inactive" : "active" } });
      fillRow(tr, u);
      say(id + (active ? " disabled" : " enabled"), "info");
    } catch (e) {
      handle(e);
    }
  }

  function confirmDelete(id) {
    const dlg = $("confirm");
    $("confirm-id").textContent = id;
    dlg.returnValue = "";
    dlg.onclose = async () => {
      dlg.onclose = null;
      if (dlg.returnValue !== "delete") return;
      try {
        await api("DELETE", "/users/" + encodeURIComponent(id));
        const tr = rows.get(id);
        if (tr) { tr.remove(); rows.delete(id); }
        if ($("detail-id").textContent === id) closeCard("detail");
        say(id + " deleted", "info");
        await refreshUsers();
      } catch (e) {
        handle(e);
      }
    };
    dlg.showModal();
    $("confirm-cancel").focus();
  }

  async function openDetail(id) {
    try {
      const text = await api("GET", "/users/" + encodeURIComponent(id) + "/config", { as: "text" });
      if ($("detail-id").textContent !== id) hideLink("detail");
      $("detail-id").textContent = id;
      await showConfig("detail", id, text);
      $("detail").hidden = false;
      $("detail").focus();
    } catch (e) {
      handle(e);
    }
  }

  function closeCard(prefix) {
    $(prefix).hidden = true;
    $(prefix + "-config").textContent = "";
    $(prefix + "-qr").removeAttribute("src");
    setBlob(prefix + "-qr", null);
    setBlob(prefix + "-download", null);
    if (prefix !== "self") hideLink(prefix);
    if (prefix === "created") $("created-key").textContent = "";
  }

  async function create(ev) {
    ev.preventDefault();
    const f = ev.target;
    const body = { client_id: f.client_id.value.trim() };
    if (f.ttl.value.trim()) body.ttl = f.ttl.value.trim();
    if (f.public_key.value.trim()) body.public_key = f.public_key.value.trim();
    // Sent as typed: the API parses and checks them and says what is wrong.
    if (f.quota.value.trim()) body.quota = f.quota.value.trim();
    if (f.rate_limit.value.trim()) body.rate_limit = f.rate_limit.value.trim();
    if (f.allowed_ips.value.trim()) body.allowed_ips = f.allowed_ips.value.trim();
    if (f.link.checked) body.link = true;
    try {
      const c = await api("POST", "/users", { body });
      $("created-id").textContent = c.client_id;
      $("created-key").textContent = c.api_key;
      if (c.link) showLink("created", c.link, "It gives this config with the private key.");
      else hideLink("created");
      $("created-cap").textContent = c.link
        ? "This QR has the placeholder: the private key is only in the link."
        : "Scan it with the WireGuard app: it holds this whole config.";
      // Drawn here, not fetched: with a server-made key pair this config
      // holds the private key, which exists only in this response.
      const png = await EvpnQr.png(c.config);
      await showConfig("created", c.client_id, c.config, png);
      $("created").hidden = false;
      $("created").focus();
      f.reset();
      say(c.client_id + " created", "info");
      await refreshUsers();
    } catch (e) {
      handle(e);
    }
  }

  // ---- a user's own view -----------------------------------------------

  async function refreshSelf(id, withConfig) {
    const u = await api("GET", "/users/" + encodeURIComponent(id));
    const dl = $("self-info");
    dl.textContent = "";
    const add = (k, v) => {
      const dt = document.createElement("dt");
      dt.textContent = k;
      const dd = document.createElement("dd");
      dd.textContent = v;
      dd.className = "i-" + k.toLowerCase().replace(/ /g, "-");
      dl.append(dt, dd);
    };
    add("Status", fmtStatus(u));
    add("Address", [u.address, u.address6].filter(Boolean).join(", "));
    add("Created", fmtTime(u.created_at));
    add("Expires", u.expires_at ? fmtTime(u.expires_at) : "never");
    add("Last handshake", fmtAgo(u.last_handshake));
    add("Received", fmtBytes(u.rx_bytes));
    add("Sent", fmtBytes(u.tx_bytes));
    if (typeof u.quota === "number") add("Quota", fmtQuota(u));
    add("Rate limit", fmtRate(u));
    if (withConfig) {
      const text = await api("GET", "/users/" + encodeURIComponent(id) + "/config", { as: "text" });
      await showConfig("self", id, text);
    }
  }

  // ---- one-time config links -------------------------------------------

  function hideLink(prefix) {
    $(prefix + "-link").hidden = true;
    $(prefix + "-link-url").value = "";
    $(prefix + "-link-exp").textContent = "";
  }

  function showLink(prefix, l, what) {
    $(prefix + "-link-url").value = l.url;
    $(prefix + "-link-exp").textContent = "Works once, until " + fmtTime(l.expires_at) + ". " + what;
    $(prefix + "-link-exp").title = l.expires_at;
    $(prefix + "-link").hidden = false;
  }

  // POST /users/{id}/links (admin or the user itself): the URL answers the
  // config once, without a key; it is shown here and nowhere kept.
  async function makeLink(prefix, id) {
    try {
      const l = await api("POST", "/users/" + encodeURIComponent(id) + "/links", { body: {} });
      showLink(prefix, l, "It gives the config with the placeholder private key.");
      $(prefix + "-link-url").focus();
      $(prefix + "-link-url").select();
      say("One-time link for " + id + " made", "info");
    } catch (e) {
      handle(e);
    }
  }

  async function copyLink(prefix) {
    const el = $(prefix + "-link-url");
    try {
      await navigator.clipboard.writeText(el.value);
      say("Link copied", "info");
    } catch (e) {
      // No clipboard permission (e.g. plain http on another host):
      // leave it selected for Ctrl+C.
      el.focus();
      el.select();
      say("Copy is not allowed here: the link is selected, press Ctrl+C", "info");
    }
  }

  // ---- wiring ----------------------------------------------------------

  document.addEventListener("DOMContentLoaded", () => {
    $("signin-form").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const key = $("key").value.trim();
      if (!key) return;
      try {
        await signIn(key);
      } catch (e) {
        sessionStorage.removeItem(KEY);
        role = null;
        fail(e);
        $("key").select();
      }
    });
    $("signout").addEventListener("click", () => signOut("Signed out."));
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden && role) schedule(0);
    });
    $("create-form").addEventListener("submit", create);
    $("created-close").addEventListener("click", () => closeCard("created"));
    $("detail-close").addEventListener("click", () => closeCard("detail"));
    $("detail-mklink").addEventListener("click", () => makeLink("detail", $("detail-id").textContent));
    $("self-mklink").addEventListener("click", () => makeLink("self", $("self-id").textContent));
    for (const p of ["created", "detail", "self"])
      $(p + "-link-copy").addEventListener("click", () => copyLink(p));
    const saved = sessionStorage.getItem(KEY);
    if (saved) {
      signIn(saved).catch((e) => { signOut(); fail(e); });
    } else {
      $("key").focus();
    }
  });
})();
