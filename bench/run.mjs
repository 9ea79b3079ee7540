// node bench/run.mjs [--runs N]
//
// The benchmark of the shipped builds (run `make build` first): size of dist/, then, in headless
// Chromium, ready time, lookup overhead, event dispatch and memory. Each run starts new servers and a
// new browser and measures everything once; a figure's result is the median over the runs (7 by
// default), printed with its min and max, and written with every run's value to target/bench.json.
// docs/PERFORMANCE.md describes the method and the figures measured.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { measureDispatch } from './dispatch.mjs';
import { root, start, summary } from './lib.mjs';
import { measureLookup } from './lookup.mjs';
import { measureMemory } from './memory.mjs';
import { measureReady } from './ready.mjs';
import { measureSize } from './size.mjs';

const args = process.argv.slice(2);
const runsFlag = args.indexOf('--runs');
const OPTIONS = {
  runs: runsFlag >= 0 ? Number(args[runsFlag + 1]) : 7,
  ready: { loads: 5 },
  lookup: { lookups: 50, warmup: 5 },
  dispatch: { listeners: [1, 10, 100], events: 10_000, repeats: 3, warmup: 3, samples: 100 },
  memory: { operations: 200, warmupLookups: 200, warmupJoins: 100 },
};
if (!(OPTIONS.runs >= 1)) throw new Error('usage: node bench/run.mjs [--runs N]');
for (const dir of ['dist/script', 'dist/npm']) {
  if (!existsSync(join(root, dir))) throw new Error(`${dir} is missing: run make build first`);
}

// What each figure is, for the printed tables; the keys are those of the measure modules.
const MS = 'ms';
const RATE = 'events/s';
const BYTES = 'bytes';
const FIGURES = {
  ready: [
    ['defined', MS, 'script start → GLANCE.Agent defined (calls accepted)'],
    ['ready', MS, 'script start → GLANCE.Agent.ready resolved'],
    ['definedFromInline', MS, '  inline timestamp before the tag → defined'],
    ['readyFromInline', MS, '  inline timestamp before the tag → ready'],
    ['scriptDownloaded', MS, '  script start → script responseEnd'],
    ['scriptRun', MS, '  script responseEnd → defined (run the tag)'],
    ['wasmRequested', MS, '  script start → .wasm request start'],
    ['wasmDownloaded', MS, '  script start → .wasm responseEnd'],
    ['wasmToReady', MS, '  .wasm responseEnd → ready (compile tail, instantiate)'],
  ],
  lookup: [
    ['found', MS, 'responseEnd → lookupFound fired'],
    ['resolved', MS, 'responseEnd → lookupSession promise resolved'],
    ['plainResolved', MS, '  plain fetch+text()+DOMParser: responseEnd → done'],
    ['added', MS, '  library minus plain (paired)'],
    ['foundMean', MS, '  trimmed mean: responseEnd → lookupFound'],
    ['resolvedMean', MS, '  trimmed mean: responseEnd → resolved'],
    ['plainResolvedMean', MS, '  trimmed mean: plain responseEnd → done'],
    ['addedMean', MS, '  trimmed mean: library minus plain'],
    ['total', MS, '  lookupSession call → resolved'],
    ['plainTotal', MS, '  plain fetch call → done'],
  ],
  dispatch: [
    ['library.dispatch1', RATE, 'library, 1 listener: first → last delivery'],
    ['library.dispatch10', RATE, 'library, 10 listeners'],
    ['library.dispatch100', RATE, 'library, 100 listeners'],
    ['library.endToEnd1', RATE, 'library, 1 listener: command → last delivery'],
    ['library.endToEnd10', RATE, 'library, 10 listeners'],
    ['library.endToEnd100', RATE, 'library, 100 listeners'],
    ['library.latency', MS, 'library: viewer postMessage → listener, stamped (median)'],
    ['library.latencyMean', MS, '  the same, trimmed mean'],
    ['library.roundTrip', MS, 'library: round trip console → viewer → listener'],
    ['plain.dispatch1', RATE, 'plain JS, 1 listener: first → last delivery'],
    ['plain.dispatch10', RATE, 'plain JS, 10 listeners'],
    ['plain.dispatch100', RATE, 'plain JS, 100 listeners'],
    ['plain.endToEnd1', RATE, 'plain JS, 1 listener: command → last delivery'],
    ['plain.endToEnd10', RATE, 'plain JS, 10 listeners'],
    ['plain.endToEnd100', RATE, 'plain JS, 100 listeners'],
    ['plain.latency', MS, 'plain JS: viewer postMessage → listener, stamped (median)'],
    ['plain.latencyMean', MS, '  the same, trimmed mean'],
    ['plain.roundTrip', MS, 'plain JS: round trip console → viewer → listener'],
  ],
  memory: [
    ['jsHeapPerLookup', BYTES, 'JS heap per lookup (after gc)'],
    ['heapTopPerLookup', BYTES, 'wasm heap top per lookup'],
    ['wasmMemoryPerLookup', BYTES, 'wasm memory per lookup'],
    ['tableSlotsPerLookup', 'slots', 'wasm table slots per lookup'],
    ['jsHeapPerJoin', BYTES, 'JS heap per join (open viewer, close)'],
    ['heapTopPerJoin', BYTES, 'wasm heap top per join'],
    ['wasmMemoryPerJoin', BYTES, 'wasm memory per join'],
    ['tableSlotsPerJoin', 'slots', 'wasm table slots per join'],
    ['heapTopFirstBatch', BYTES, 'wasm heap top after the first batch of lookups'],
    ['heapTopEnd', BYTES, 'wasm heap top at the end (above initial memory)'],
    ['wasmMemoryEnd', BYTES, 'wasm memory at the end'],
    ['jsHeapEnd', BYTES, 'JS heap at the end'],
    ['tableSlotsEnd', 'slots', 'wasm table slots at the end'],
  ],
};

const get = (object, path) => path.split('.').reduce((value, key) => value[key], object);

function format(value, unit) {
  if (unit === RATE) return Math.round(value).toLocaleString('en-US');
  if (unit === MS) return value.toFixed(2);
  if (Math.abs(value) < 10) return String(Math.round(value * 100) / 100);
  return (Math.round(value * 10) / 10).toLocaleString('en-US');
}

function printSize(size) {
  const row = (name, r) => `  ${name.padEnd(24)}${String(r.raw).padStart(9)}${String(r.gzip).padStart(9)}${String(r.brotli).padStart(9)}`;
  for (const part of [size.script, size.npm]) {
    console.log(`\n${part.dir}${''.padEnd(24 - part.dir.length)}      raw     gzip   brotli`);
    for (const file of part.files) console.log(row(file.name, file));
    console.log(row('total', part.total));
    if (part.files.length !== 2) console.log(row('total .js + .wasm', part.code));
  }
  const { gzip, ratio } = size.production;
  console.log(`\n  script tag gzip total ${size.script.total.gzip} bytes vs the production script's ${gzip}: ${ratio.toFixed(2)}x`);
}

function printTable(section, results) {
  console.log(`\n${section} (median of ${OPTIONS.runs} runs)`);
  for (const [key, unit, label] of FIGURES[section]) {
    const { median, min, max, runs } = results[key];
    // Half the range, relative to the median; meaningless for figures that straddle zero.
    const spread = min > 0 ? ` ±${((100 * (max - min)) / 2 / median).toFixed(0)}%` : '';
    console.log(`  ${label.padEnd(56)}${format(median, unit).padStart(10)} ${unit.padEnd(8)}`
      + ` [${format(min, unit)} … ${format(max, unit)}]${spread}`);
  }
}

/** The commit, whether the sources differ from it, and digests of the files measured. */
function provenance() {
  const git = (...command) => {
    try {
      return execFileSync('git', command, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      return null; // not a git checkout
    }
  };
  const digest = (dir) => Object.fromEntries(readdirSync(join(root, dir)).sort().map((name) =>
    [name, createHash('sha256').update(readFileSync(join(root, dir, name))).digest('hex')]));
  const status = git('status', '--porcelain', '--', 'src', 'js', 'Cargo.toml', 'Cargo.lock', 'Makefile');
  return {
    commit: git('rev-parse', 'HEAD'),
    sourcesModified: status === null ? null : status !== '',
    files: { 'dist/script': digest('dist/script'), 'dist/npm': digest('dist/npm') },
  };
}

const began = Date.now();
const build = provenance();
const size = measureSize();
printSize(size);

const runs = [];
let browserVersion = null;
// Other work on the machine slows whatever it overlaps; the load average is kept with each run.
const loads = [];
for (let run = 1; run <= OPTIONS.runs; run++) {
  const runStart = Date.now();
  loads.push(loadavg()[0]);
  const env = await start();
  browserVersion = env.browser.version();
  try {
    runs.push({
      ready: await measureReady(env, OPTIONS.ready),
      lookup: await measureLookup(env, OPTIONS.lookup),
      dispatch: await measureDispatch(env, OPTIONS.dispatch),
      memory: await measureMemory(env, OPTIONS.memory),
    });
  } finally {
    await env.stop();
  }
  process.stderr.write(`run ${run}/${OPTIONS.runs}: ${((Date.now() - runStart) / 1000).toFixed(1)} s,`
    + ` load average ${loads[run - 1].toFixed(2)} on ${cpus().length} CPUs\n`);
}

const results = {};
for (const [section, figures] of Object.entries(FIGURES)) {
  results[section] = {};
  for (const [key, unit, label] of figures) {
    results[section][key] = { label: label.trim(), unit, ...summary(runs.map((run) => get(run[section], key))) };
  }
  printTable(section, results[section]);
}

// `make build` replaces dist/; a rebuild during the runs would mix two builds in one result.
const rebuilt = JSON.stringify(provenance().files) !== JSON.stringify(build.files);
if (rebuilt) console.log('\nWARNING: dist/ changed while the benchmark ran; the figures mix two builds');
const seconds = (Date.now() - began) / 1000;
console.log(`\n${OPTIONS.runs} runs in ${seconds.toFixed(0)} s; written to target/bench.json`);
// The benchmark itself accounts for about 1 to 1.5 of the load average.
const busiest = Math.max(...loads);
if (busiest > cpus().length) {
  console.log(`note: the 1-minute load average reached ${busiest.toFixed(2)} on ${cpus().length} CPUs;`
    + ' other work on the machine makes the timings slower and noisier');
}
mkdirSync(join(root, 'target'), { recursive: true });
writeFileSync(join(root, 'target/bench.json'), JSON.stringify({
  date: new Date().toISOString(),
  seconds,
  machine: { cpus: cpus().length, cpu: cpus()[0]?.model, memory: totalmem(), node: process.version, chromium: browserVersion,
    loadAverageBeforeEachRun: loads },
  build: { ...build, changedDuringRun: rebuilt },
  options: OPTIONS,
  size,
  results,
  runs,
}, null, 2) + '\n');
