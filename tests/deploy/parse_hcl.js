// Parses every .tf file under a directory with HashiCorp's HCL parser
// (@cdktf/hcl2json) and prints {"relative/path.tf": <json>, ...}.
// usage: node parse_hcl.js <path to @cdktf/hcl2json> <dir> [more .tf files]
'use strict';
const fs = require('fs');
const path = require('path');
const { parse } = require(path.resolve(process.argv[2]));

function walk(dir) {
  let out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory() && !e.name.startsWith('.')) out = out.concat(walk(p));
    else if (e.isFile() && e.name.endsWith('.tf')) out.push(p);
  }
  return out.sort();
}

(async () => {
  const root = process.argv[3];
  const result = {};
  for (const f of walk(root)) {
    result[path.relative(root, f)] = await parse(f, fs.readFileSync(f, 'utf8'));
  }
  process.stdout.write(JSON.stringify(result));
})().catch((e) => {
  console.error('HCL parse error: ' + (e && e.message ? e.message : e));
  process.exit(1);
});
