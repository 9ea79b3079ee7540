// node bench/profile.mjs [--stripped]
//
// Where the time goes, by Chromium's sampling profiler (CDP Profiler), in two of the benchmark's
// pages: dispatching viewer events to 100 listeners, and lookups. Prints self time by kind (wasm,
// the JS glue, the page, the browser) and the top functions, and writes each profile to
// target/bench-profile-<name>.cpuprofile (open it in Chrome DevTools, Performance panel).
//
// The shipped module has no function names. Unless --stripped is given, this script serves the
// build's copy with names instead (WASM_NAMED, given the shipped short names): the same code, its
// functions in name order, with Rust function names in the profile.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { libraryPage } from './dispatch.mjs';
import { root, start } from './lib.mjs';
import { page as lookupPage } from './lookup.mjs';

const stripped = process.argv.includes('--stripped');
const target = (name) => join(root, 'target', name);

/** A Makefile variable, as make expands it. */
function makeVariable(name) {
  return execFileSync('make', ['-s', '--no-print-directory', `--eval=bench-print-%: ; @echo $($*)`, `bench-print-${name}`],
    { cwd: root, encoding: 'utf8' }).trim().split(/\s+/);
}

/** The shipped module's code with its name section: the build's named copy (functions in name order). */
function namedModule() {
  const wasmOpt = join(root, 'node_modules/.bin/wasm-opt');
  const named = target('bench-profile.wasm');
  // The shipped glue calls the module by its short names: give this copy the same ones.
  execFileSync(wasmOpt, ['--minify-imports-and-exports-and-modules', '-g', ...makeVariable('WASM_FEATURES'),
    makeVariable('WASM_NAMED')[0], '-o', named], { cwd: root });
  return named;
}

/** A Rust symbol without its hash: `glance_agent::browser::dispatch::deliver::h0123456789abcdef` → `…::deliver`. */
const shorten = (name) => name.replace(/::h[0-9a-f]{16}$/, '');

function kind(frame) {
  const { url, functionName } = frame;
  if (url.endsWith('.wasm') || url.startsWith('wasm://')) return 'wasm module';
  if (url.endsWith('/glance-agent.js')) return 'JS glue and facade';
  if (url.includes('/bench/') || url.includes('AgentView')) return 'benchmark page and stub viewer';
  if (functionName.startsWith('(')) return functionName;
  return 'browser builtins (postMessage, Reflect, DOM…)';
}

/** Self time per function and per kind, in ms. */
function summarise(profile) {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const byFunction = new Map();
  const byKind = new Map();
  profile.samples.forEach((id, i) => {
    const frame = nodes.get(id).callFrame;
    const ms = (profile.timeDeltas[i] || 0) / 1000;
    const name = `${shorten(frame.functionName) || '(anonymous)'}  ${frame.url.split('/').pop()}`;
    byFunction.set(name, (byFunction.get(name) || 0) + ms);
    byKind.set(kind(frame), (byKind.get(kind(frame)) || 0) + ms);
  });
  return { byFunction, byKind };
}

function print(title, profile) {
  const { byFunction, byKind } = summarise(profile);
  const total = [...byKind.values()].reduce((sum, ms) => sum + ms, 0);
  const rows = (map, n) => [...map].sort((a, b) => b[1] - a[1]).slice(0, n)
    .map(([name, ms]) => `  ${ms.toFixed(1).padStart(8)} ms ${((100 * ms) / total).toFixed(1).padStart(5)}%  ${name}`);
  console.log(`\n${title}: ${total.toFixed(0)} ms sampled\n${rows(byKind, 10).join('\n')}\n\n  top functions (self time)\n${rows(byFunction, 20).join('\n')}`);
}

async function profiled(env, name, url, work) {
  const page = await env.open(url);
  const cdp = await page.context.newCDPSession(page.tab);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 50 }); // µs
  await page.tab.evaluate(work.warmup);
  await cdp.send('Profiler.start');
  await page.tab.evaluate(work.measure);
  const { profile } = await cdp.send('Profiler.stop');
  await page.close();
  writeFileSync(target(`bench-profile-${name}.cpuprofile`), JSON.stringify(profile));
  return profile;
}

const replace = stripped ? {} : { '/dist/script/glance_agent_bg.wasm': namedModule() };
const env = await start({ replace });
try {
  const dispatch = await profiled(env, 'dispatch', env.page('dispatch.html', libraryPage(env)), {
    warmup: async () => {
      await bench.connected;
      for (let i = 0; i < 3; i++) await bench.burst(10, 10_000);
    },
    measure: async () => {
      for (let i = 0; i < 3; i++) await bench.burst(100, 10_000);
    },
  });
  print('dispatch: 3 bursts of 10,000 stats events to 100 listeners', dispatch);

  const lookup = await profiled(env, 'lookup', env.page('lookup.html', lookupPage(env)), {
    warmup: async () => {
      await GLANCE.Agent.ready;
      for (let i = 0; i < 20; i++) await bench.library();
    },
    measure: async () => {
      for (let i = 0; i < 200; i++) await bench.library();
    },
  });
  print('lookup: 200 lookups answered at once', lookup);
} finally {
  await env.stop();
}
console.log(`\nprofiles written to target/bench-profile-dispatch.cpuprofile and target/bench-profile-lookup.cpuprofile${stripped ? '' : ' (module with names: target/bench-profile.wasm)'}`);
