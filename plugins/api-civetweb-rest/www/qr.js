// SPDX-License-Identifier: MIT
// QR code encoder (ISO/IEC 18004), written for the evpn console: byte mode,
// error correction level M (as the API's config.png), versions 1 to 40, the
// mask with the lowest penalty. The console draws with it the one QR code
// the server cannot: the config of a user just created with a server-made
// key pair, whose private key exists only in that one response.
"use strict";

const EvpnQr = (() => {
  // Level M, by version (index 0 unused).
  const ECC_PER_BLOCK = [-1, 10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22,
    22, 24, 24, 28, 28, 26, 26, 26, 26, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28,
    28, 28, 28, 28, 28, 28, 28, 28, 28];
  const BLOCKS = [-1, 1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10, 10, 11, 13,
    14, 16, 17, 17, 18, 20, 21, 23, 25, 26, 28, 29, 31, 33, 35, 37, 38, 40, 43,
    45, 47, 49];
  const FORMAT_M = 0; // the two error-correction bits of level M

  // Modules that carry data and error correction in a version.
  function rawModules(ver) {
    let n = (16 * ver + 128) * ver + 64;
    if (ver >= 2) {
      const align = Math.floor(ver / 7) + 2;
      n -= (25 * align - 10) * align - 55;
      if (ver >= 7) n -= 36;
    }
    return n;
  }
  const dataCodewords = (ver) =>
    Math.floor(rawModules(ver) / 8) - ECC_PER_BLOCK[ver] * BLOCKS[ver];

  // GF(2^8) modulo x^8 + x^4 + x^3 + x^2 + 1 (0x11D).
  function gfMul(x, y) {
    let z = 0;
    for (let i = 7; i >= 0; i--) {
      z = (z << 1) ^ ((z >>> 7) * 0x11d);
      z ^= ((y >>> i) & 1) * x;
    }
    return z & 0xff;
  }

  // Reed-Solomon generator polynomial of a degree (highest term implied).
  function rsDivisor(degree) {
    const r = new Array(degree).fill(0);
    r[degree - 1] = 1;
    let root = 1;
    for (let i = 0; i < degree; i++) {
      for (let j = 0; j < degree; j++) {
        r[j] = gfMul(r[j], root);
        if (j + 1 < degree) r[j] ^= r[j + 1];
      }
      root = gfMul(root, 2);
    }
    return r;
  }

  function rsRemainder(data, div) {
    const r = div.map(() => 0);
    for (const b of data) {
      const f = b ^ r.shift();
      r.push(0);
      for (let i = 0; i < div.length; i++) r[i] ^= gfMul(div[i], f);
    }
    return r;
  }

  // Data codewords: mode, count, bytes, terminator, padding.
  function codewords(bytes, ver) {
    const bits = [];
    const put = (v, n) => { for (let i = n - 1; i >= 0; i--) bits.push((v >>> i) & 1); };
    const cap = dataCodewords(ver) * 8;
    put(4, 4); // byte mode
    put(bytes.length, ver <= 9 ? 8 : 16);
    for (const b of bytes) put(b, 8);
    put(0, Math.min(4, cap - bits.length));
    put(0, (8 - (bits.length % 8)) % 8);
    for (let pad = 0xec; bits.length < cap; pad ^= 0xec ^ 0x11) put(pad, 8);
    const out = [];
    for (let i = 0; i < bits.length; i += 8) {
      let v = 0;
      for (let j = 0; j < 8; j++) v = (v << 1) | bits[i + j];
      out.push(v);
    }
    return out;
  }

  // Split into blocks, add each block's error correction, interleave.
  function interleave(data, ver) {
    const nblocks = BLOCKS[ver], ecc = ECC_PER_BLOCK[ver];
    const raw = Math.floor(rawModules(ver) / 8);
    const nshort = nblocks - (raw % nblocks);
    const shortLen = Math.floor(raw / nblocks);
    const div = rsDivisor(ecc);
    const blocks = [];
    for (let i = 0, k = 0; i < nblocks; i++) {
      const dat = data.slice(k, k + shortLen - ecc + (i < nshort ? 0 : 1));
      k += dat.length;
      const e = rsRemainder(dat, div);
      if (i < nshort) dat.push(0);
      blocks.push(dat.concat(e));
    }
    const out = [];
    for (let i = 0; i < blocks[0].length; i++) {
      for (let j = 0; j < blocks.length; j++) {
        if (i !== shortLen - ecc || j >= nshort) out.push(blocks[j][i]);
      }
    }
    return out;
  }

  function alignmentPositions(ver) {
    if (ver === 1) return [];
    const n = Math.floor(ver / 7) + 2;
    const step = Math.floor((ver * 8 + n * 3 + 5) / (n * 4 - 4)) * 2;
    const pos = [6];
    for (let p = ver * 4 + 10; pos.length < n; p -= step) pos.splice(1, 0, p);
    return pos;
  }

  class Matrix {
    constructor(ver) {
      this.ver = ver;
      this.size = ver * 4 + 17;
      this.dark = Array.from({ length: this.size }, () => new Array(this.size).fill(false));
      this.fixed = Array.from({ length: this.size }, () => new Array(this.size).fill(false));
    }

    set(x, y, dark) {
      this.dark[y][x] = dark;
      this.fixed[y][x] = true;
    }

    functionPatterns() {
      const s = this.size;
      for (let i = 0; i < s; i++) {
        this.set(6, i, i % 2 === 0);
        this.set(i, 6, i % 2 === 0);
      }
      for (const [cx, cy] of [[3, 3], [s - 4, 3], [3, s - 4]]) {
        for (let dy = -4; dy <= 4; dy++) {
          for (let dx = -4; dx <= 4; dx++) {
            const d = Math.max(Math.abs(dx), Math.abs(dy));
            const x = cx + dx, y = cy + dy;
            if (x >= 0 && x < s && y >= 0 && y < s) this.set(x, y, d !== 2 && d !== 4);
          }
        }
      }
      const pos = alignmentPositions(this.ver), last = pos.length - 1;
      for (let i = 0; i <= last; i++) {
        for (let j = 0; j <= last; j++) {
          if ((i === 0 && j === 0) || (i === 0 && j === last) || (i === last && j === 0)) continue;
          for (let dy = -2; dy <= 2; dy++) {
            for (let dx = -2; dx <= 2; dx++) {
              this.set(pos[i] + dx, pos[j] + dy, Math.max(Math.abs(dx), Math.abs(dy)) !== 1);
            }
          }
        }
      }
      this.formatBits(0); // reserve the area; redrawn with the mask
      if (this.ver >= 7) {
        let rem = this.ver;
        for (let i = 0; i < 12; i++) rem = (rem << 1) ^ ((rem >>> 11) * 0x1f25);
        const bits = (this.ver << 12) | rem;
        for (let i = 0; i < 18; i++) {
          const bit = ((bits >>> i) & 1) !== 0;
          const a = s - 11 + (i % 3), b = Math.floor(i / 3);
          this.set(a, b, bit);
          this.set(b, a, bit);
        }
      }
    }

    formatBits(mask) {
      const data = (FORMAT_M << 3) | mask;
      let rem = data;
      for (let i = 0; i < 10; i++) rem = (rem << 1) ^ ((rem >>> 9) * 0x537);
      const bits = ((data << 10) | rem) ^ 0x5412;
      const bit = (i) => ((bits >>> i) & 1) !== 0;
      const s = this.size;
      for (let i = 0; i <= 5; i++) this.set(8, i, bit(i));
      this.set(8, 7, bit(6));
      this.set(8, 8, bit(7));
      this.set(7, 8, bit(8));
      for (let i = 9; i < 15; i++) this.set(14 - i, 8, bit(i));
      for (let i = 0; i < 8; i++) this.set(s - 1 - i, 8, bit(i));
      for (let i = 8; i < 15; i++) this.set(8, s - 15 + i, bit(i));
      this.set(8, s - 8, true); // the dark module
    }

    // Zigzag from the bottom right, two columns at a time, skipping column 6.
    codewords(data) {
      const s = this.size;
      let i = 0;
      for (let right = s - 1; right >= 1; right -= 2) {
        if (right === 6) right = 5;
        for (let v = 0; v < s; v++) {
          for (let j = 0; j < 2; j++) {
            const x = right - j;
            const up = ((right + 1) & 2) === 0;
            const y = up ? s - 1 - v : v;
            if (!this.fixed[y][x] && i < data.length * 8) {
              this.dark[y][x] = ((data[i >>> 3] >>> (7 - (i & 7))) & 1) !== 0;
              i++;
            }
          }
        }
      }
    }

    mask(m) {
      const f = [
        (x, y) => (x + y) % 2 === 0,
        (x, y) => y % 2 === 0,
        (x) => x % 3 === 0,
        (x, y) => (x + y) % 3 === 0,
        (x, y) => (Math.floor(x / 3) + Math.floor(y / 2)) % 2 === 0,
        (x, y) => ((x * y) % 2) + ((x * y) % 3) === 0,
        (x, y) => (((x * y) % 2) + ((x * y) % 3)) % 2 === 0,
        (x, y) => (((x + y) % 2) + ((x * y) % 3)) % 2 === 0,
      ][m];
      for (let y = 0; y < this.size; y++) {
        for (let x = 0; x < this.size; x++) {
          if (!this.fixed[y][x] && f(x, y)) this.dark[y][x] = !this.dark[y][x];
        }
      }
    }

    // The standard's penalty: long runs, 2x2 blocks, finder-like
    // patterns, and an unbalanced dark/light ratio.
    penalty() {
      const s = this.size, d = this.dark;
      let p = 0, darkCount = 0;
      const line = (get) => {
        let run = 1;
        for (let i = 1; i <= s; i++) {
          if (i < s && get(i) === get(i - 1)) { run++; continue; }
          if (run >= 5) p += run - 2;
          run = 1;
        }
        const pat = [true, false, true, true, true, false, true];
        for (let i = -4; i < s; i++) {
          let match = true;
          for (let k = 0; k < 7 && match; k++) {
            const at = i + k;
            match = (at >= 0 && at < s ? get(at) : false) === pat[k];
          }
          if (!match) continue;
          const light = (from) => {
            for (let k = from; k < from + 4; k++) if (k >= 0 && k < s && get(k)) return false;
            return true;
          };
          if (light(i - 4) || light(i + 7)) p += 40;
        }
      };
      for (let y = 0; y < s; y++) line((x) => d[y][x]);
      for (let x = 0; x < s; x++) line((y) => d[y][x]);
      for (let y = 0; y < s; y++) {
        for (let x = 0; x < s; x++) {
          if (d[y][x]) darkCount++;
          if (x < s - 1 && y < s - 1 && d[y][x] === d[y][x + 1] &&
              d[y][x] === d[y + 1][x] && d[y][x] === d[y + 1][x + 1]) p += 3;
        }
      }
      const total = s * s;
      p += (Math.ceil(Math.abs(darkCount * 20 - total * 10) / total) - 1) * 10;
      return p;
    }
  }

  // The module matrix (rows of booleans, true = dark) of a text.
  function encode(text) {
    const bytes = Array.from(new TextEncoder().encode(text));
    let ver = 1;
    while (ver <= 40 && 4 + (ver <= 9 ? 8 : 16) + bytes.length * 8 > dataCodewords(ver) * 8) ver++;
    if (ver > 40) throw new Error("too long for a QR code");
    const data = interleave(codewords(bytes, ver), ver);
    let best = null, bestPenalty = Infinity;
    for (let m = 0; m < 8; m++) {
      const q = new Matrix(ver);
      q.functionPatterns();
      q.codewords(data);
      q.mask(m);
      q.formatBits(m);
      const pen = q.penalty();
      if (pen < bestPenalty) { best = q; bestPenalty = pen; }
    }
    return best.dark;
  }

  // A PNG Blob of the QR code of a text: `scale` pixels a module and the
  // quiet zone of 4 modules the standard asks for (as config.png).
  function png(text, scale = 6, margin = 4) {
    const m = encode(text);
    const px = (m.length + 2 * margin) * scale;
    const c = document.createElement("canvas");
    c.width = c.height = px;
    const g = c.getContext("2d");
    g.fillStyle = "#fff";
    g.fillRect(0, 0, px, px);
    g.fillStyle = "#000";
    for (let y = 0; y < m.length; y++) {
      for (let x = 0; x < m.length; x++) {
        if (m[y][x]) g.fillRect((x + margin) * scale, (y + margin) * scale, scale, scale);
      }
    }
    return new Promise((resolve, reject) =>
      c.toBlob((b) => (b ? resolve(b) : reject(new Error("cannot draw the QR code"))), "image/png"));
  }

  return { encode, png };
})();
