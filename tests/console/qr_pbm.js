// SPDX-License-Identifier: MIT
// node qr_pbm.js QR_JS OUT_DIR: encodes texts of many lengths (every QR
// version, 1 to 40) with the console's QR encoder and writes, per case,
// N.txt (the text) and N.pbm (the symbol, for zbarimg). test_qr.py checks
// that each decodes back to its text.
"use strict";
const fs = require("fs");
const path = require("path");
const vm = require("vm");

const [qrJs, out] = process.argv.slice(2);
const ctx = { TextEncoder };
vm.createContext(ctx);
vm.runInContext(fs.readFileSync(qrJs, "utf8") + "\nthis.EvpnQr = EvpnQr;", ctx);
const qr = ctx.EvpnQr;

// Lengths 1 to 30, then for each version 1 to 40 the longest text it holds
// (found by bisection: the symbol's size gives its version), the fullest
// symbols, where block and capacity mistakes show.
let seed = 12345;
const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
const chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/= \n[].:,-_";
const text = (l) => {
  let t = "";
  for (let k = 0; k < l; k++) t += chars[rnd() % chars.length];
  return t;
};
const versionOf = (l) => (qr.encode("x".repeat(l)).length - 17) / 4;
const texts = [];
for (let l = 1; l <= 30; l++) texts.push(text(l));
for (let v = 1, lo = 1; v <= 40; v++) {
  let hi = 2331; // the most a version-40 M symbol holds
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (versionOf(mid) <= v) lo = mid; else hi = mid - 1;
  }
  texts.push(text(lo));
  lo++;
}
texts.push("[Interface]\nPrivateKey = uFJQoWxxzntFngxQS4VylDLdX8rgfqg+di65NngNalY=\n" +
  "Address = 10.78.0.2/32, fd00::2/128\nDNS = 1.1.1.1\nMTU = 1420\n\n[Peer]\n" +
  "PublicKey = AfJ19TJf3WX1zrMVFITGgjjrUoeKUxywkYl8wJWeHjs=\nEndpoint = vpn.example:51820\n" +
  "AllowedIPs = 0.0.0.0/0, ::/0\nPersistentKeepalive = 25\n");
texts.push("caf\u00e9 \u2713"); // UTF-8 bytes

texts.forEach((t, i) => {
  const m = qr.encode(t);
  const s = m.length, scale = 3, margin = 4, px = (s + 2 * margin) * scale;
  const rows = [];
  for (let y = 0; y < px; y++) {
    let r = "";
    for (let x = 0; x < px; x++) {
      const my = Math.floor(y / scale) - margin, mx = Math.floor(x / scale) - margin;
      r += my >= 0 && my < s && mx >= 0 && mx < s && m[my][mx] ? "1" : "0";
    }
    rows.push(r);
  }
  fs.writeFileSync(path.join(out, i + ".pbm"), "P1\n" + px + " " + px + "\n" + rows.join("\n") + "\n");
  fs.writeFileSync(path.join(out, i + ".txt"), t);
  fs.appendFileSync(path.join(out, "cases"), i + " " + Buffer.byteLength(t) + " " + (s - 17) / 4 + "\n");
});
