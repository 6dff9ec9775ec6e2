// Runs the browser SMS counter on the shared vectors and prints its answers as JSON:
//   node run_vectors.js <sms-counter.js> <vectors.json>
// test_js_counter.py compares them with the Python implementation's.
"use strict";
const fs = require("fs");
const vm = require("vm");

const [counterPath, vectorsPath] = process.argv.slice(2);
vm.runInThisContext(fs.readFileSync(counterPath, "utf8"), { filename: counterPath });
const vectors = JSON.parse(fs.readFileSync(vectorsPath, "utf8"));

function run(text, smart) {
  const result = globalThis.praxisboteAnalyzeSms(text, smart);
  result.part_lengths = result.parts.map((part) => Array.from(part).length);
  delete result.parts;
  return result;
}

const out = vectors.map((v) => ({ name: v.name, off: run(v.text, false), on: run(v.text, true) }));
process.stdout.write(JSON.stringify(out));
