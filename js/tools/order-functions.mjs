// node js/tools/order-functions.mjs IN OUT WASM-OPT [WASM-OPT ARGUMENTS...]
//
// A build step, not shipped. gzip finds a repeat only within the last 32 KiB, so the order of the
// module's functions decides how much of what they share it finds. This puts each function next to
// the ones whose bytes it shares most, then lets Binaryen move them: it names the functions of IN
// (the optimised module, with its name section) in that order and runs
// `WASM-OPT ARGUMENTS --reorder-functions-by-name` (which renumbers every call). Every order starts
// with the exported functions, in a row (see `exportsFirst`); the rest follow in name order, or in a
// greedy order by the byte n-grams of the function bodies, for a few n-gram lengths and windows. The
// order whose module is smallest under gzip -9 is written to OUT. Code and behaviour are unchanged:
// only the order of the functions in the code section moves.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';

const [input, output, wasmOpt, ...wasmOptArguments] = process.argv.slice(2);
if (!wasmOpt) throw new Error('usage: order-functions.mjs IN OUT WASM-OPT [WASM-OPT ARGUMENTS...]');
const module = readFileSync(input);

/** An unsigned LEB128 at `at`: its value and the offset after it. */
function readLeb(bytes, at) {
  let value = 0;
  let shift = 0;
  let byte;
  do {
    byte = bytes[at++];
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
  } while (byte & 0x80);
  return [value, at];
}

function leb(value) {
  const bytes = [];
  do {
    let byte = value & 0x7f;
    value = Math.floor(value / 128);
    if (value) byte |= 0x80;
    bytes.push(byte);
  } while (value);
  return Buffer.from(bytes);
}

function readName(bytes, at) {
  const [length, start] = readLeb(bytes, at);
  return [bytes.toString('utf8', start, start + length), start + length];
}

const withLength = (bytes) => Buffer.concat([leb(bytes.length), bytes]);
const name = (text) => withLength(Buffer.from(text, 'utf8'));

/** The sections of a module (id, where it starts, where its content starts and ends), the number of
 * imported functions (they come first in the function index space and are not moved) and the
 * indices of the exported functions defined in it, counted from its first defined function. */
function parse(bytes) {
  const sections = [];
  for (let at = 8; at < bytes.length; ) {
    const [size, content] = readLeb(bytes, at + 1);
    sections.push({ id: bytes[at], start: at, content, end: content + size });
    at = content + size;
  }
  let importedFunctions = 0;
  const imports = sections.find((s) => s.id === 2);
  if (imports) {
    let [count, at] = readLeb(bytes, imports.content);
    for (let i = 0; i < count; i++) {
      [, at] = readName(bytes, at);
      [, at] = readName(bytes, at);
      const kind = bytes[at++];
      if (kind === 0) {
        [, at] = readLeb(bytes, at); // type index
        importedFunctions++;
      } else if (kind === 1 || kind === 2) {
        if (kind === 1) at++; // element type
        const flags = bytes[at++];
        [, at] = readLeb(bytes, at);
        if (flags & 1) [, at] = readLeb(bytes, at);
      } else if (kind === 3) {
        at += 2; // value type, mutability
      } else if (kind === 4) {
        at++;
        [, at] = readLeb(bytes, at);
      } else {
        throw new Error(`unknown import kind ${kind}`);
      }
    }
  }
  const exported = [];
  const exports = sections.find((s) => s.id === 7);
  if (exports) {
    let [count, at] = readLeb(bytes, exports.content);
    for (let i = 0; i < count; i++) {
      [, at] = readName(bytes, at);
      const kind = bytes[at++];
      let index;
      [index, at] = readLeb(bytes, at);
      if (kind === 0 && index >= importedFunctions) exported.push(index - importedFunctions);
    }
  }
  return { sections, importedFunctions, exported: [...new Set(exported)].sort((x, y) => x - y) };
}

const { sections, importedFunctions, exported } = parse(module);
const section = (id, custom) =>
  sections.find((s) => s.id === id && (custom === undefined || readName(module, s.content)[0] === custom));

const code = section(10);
const names = section(0, 'name');
if (!code || !names) throw new Error(`${input}: no code or no name section`);
const bodies = [];
{
  let [count, at] = readLeb(module, code.content);
  for (let i = 0; i < count; i++) {
    const [size, start] = readLeb(module, at);
    bodies.push(module.subarray(start, start + size));
    at = start + size;
  }
}

// The function names already there (imports keep theirs).
const functionNames = new Map();
{
  let [, at] = readName(module, names.content);
  while (at < names.end) {
    const id = module[at];
    const [size, start] = readLeb(module, at + 1);
    if (id === 1) {
      let [count, entry] = readLeb(module, start);
      for (let i = 0; i < count; i++) {
        let index;
        let text;
        [index, entry] = readLeb(module, entry);
        [text, entry] = readName(module, entry);
        functionNames.set(index, text);
      }
    }
    at = start + size;
  }
}

/** Each body's distinct n-grams of `gram` bytes, as numbers from 0, and how many there are. */
function gramsOf(gram) {
  const ids = new Map();
  const grams = bodies.map((body) => {
    const own = new Set();
    for (let i = 0; i + gram <= body.length; i++) {
      const text = body.toString('latin1', i, i + gram);
      let id = ids.get(text);
      if (id === undefined) ids.set(text, (id = ids.size));
      own.add(id);
    }
    return Int32Array.from(own);
  });
  return { grams, count: ids.size };
}

/** The exported functions first, in a row (see `exportsFirst`), then greedily: each next function
 * is the unplaced one sharing most n-grams with the last `window` placed. */
function similarityOrder({ grams, count }, window, perByte) {
  const recent = new Int32Array(count).fill(-1); // the step at which a gram was last in the window
  const placed = new Uint8Array(bodies.length);
  const order = exported.length > 0 ? [...exported] : [0];
  for (const f of order) placed[f] = 1;
  for (let step = 1; order.length < bodies.length; step++) {
    for (const f of order.slice(-window)) for (const g of grams[f]) recent[g] = step;
    let best = -1;
    let bestScore = -1;
    for (let f = 0; f < bodies.length; f++) {
      if (placed[f]) continue;
      let shared = 0;
      for (const g of grams[f]) if (recent[g] === step) shared++;
      const score = perByte ? shared / (grams[f].length + 1) : shared;
      if (score > bestScore) [best, bestScore] = [f, score];
    }
    order.push(best);
    placed[best] = 1;
  }
  return order;
}

/** IN with its functions named so that sorting by name gives `order`. */
function named(order) {
  const rank = new Array(bodies.length);
  order.forEach((f, place) => (rank[f] = place));
  const entries = new Map(functionNames);
  rank.forEach((place, f) => entries.set(importedFunctions + f, `~${String(place).padStart(6, '0')}`));
  const list = [...entries].sort(([a], [b]) => a - b);
  const subsection = Buffer.concat([leb(list.length), ...list.flatMap(([index, text]) => [leb(index), name(text)])]);
  const content = Buffer.concat([name('name'), Buffer.from([1]), withLength(subsection)]);
  return Buffer.concat([
    module.subarray(0, names.start),
    Buffer.from([0]),
    withLength(content),
    module.subarray(names.end),
  ]);
}

// V8 names each exported function by its number, through a cache of number strings that it enlarges
// to 64 KiB of JS heap at the first two numbers that collide in it: with the exports spread through
// the module that cost 64.5 KB of heap (measured); numbered in a row, they never collide. So every
// order starts with the exports as they are.
const exportsFirst = (rest) => [...exported, ...rest.filter((f) => !exported.includes(f))];
const candidates = [{ label: 'by name', order: exportsFirst(bodies.map((_, f) => f)) }];
for (const gram of [4, 5, 6]) {
  const grams = gramsOf(gram);
  for (const window of [1, 3, 8]) {
    for (const perByte of [false, true]) {
      const label = `${gram}-grams, last ${window}${perByte ? ', per byte' : ''}`;
      candidates.push({ label, order: similarityOrder(grams, window, perByte) });
    }
  }
}

// Each candidate through wasm-opt, as many at once as there are cores.
const scratch = mkdtempSync(join(tmpdir(), 'order-functions-'));
const run = promisify(execFile);
async function measure(candidate, i) {
  const from = join(scratch, `${i}.in.wasm`);
  const to = join(scratch, `${i}.wasm`);
  writeFileSync(from, named(candidate.order));
  await run(wasmOpt, [...wasmOptArguments, '--reorder-functions-by-name', from, '-o', to]);
  candidate.bytes = readFileSync(to);
  const after = parse(candidate.bytes).exported;
  if (after.length !== exported.length || after.some((f, i) => f !== i)) {
    throw new Error(`${candidate.label}: the exported functions are not first, in a row`);
  }
  candidate.gzip = gzipSync(candidate.bytes, { level: 9 }).length;
}
try {
  let next = 0;
  const worker = async () => {
    while (next < candidates.length) {
      const i = next++;
      await measure(candidates[i], i);
    }
  };
  await Promise.all(Array.from({ length: availableParallelism() }, worker));
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
// The smallest; the first of equals, so the order as it was wins a tie.
const best = candidates.reduce((best, candidate) => (candidate.gzip < best.gzip ? candidate : best));
writeFileSync(output, best.bytes);
console.log(`function order: ${best.label}, ${best.gzip} B gzip (by name: ${candidates[0].gzip} B)`);
