// Memory per lookup and per join (open the viewer, wait for it to load, close it).
//
// Neither build exposes the module's memory (the npm module's exports are the API, install and the
// default; the glue keeps its `wasm` binding private), so the page wraps `WebAssembly.Instance` before
// the tag loads and keeps the instance's exports. From them:
// - wasm memory: `memory.buffer.byteLength`, which grows in 64 KiB pages and never shrinks;
// - heap top: the highest non-zero byte above the module's initial memory. The allocator cuts fresh
//   blocks from there upwards and reuses freed ones, so this tracks its bump pointer to the byte,
//   where byteLength only moves a page at a time;
// - table slots: the length of each exported table; wasm-bindgen keeps the JS values Rust holds in
//   one, so a leaked JsValue shows as growth.
// The JS heap is `performance.memory.usedJSHeapSize` after gc() (Chromium runs with --expose-gc and
// --enable-precise-memory-info). Closures handed to JS are freed by a FinalizationRegistry, whose
// callbacks run in a task after a collection, hence gc, wait, gc, wait before each snapshot.
import { credentials } from './lib.mjs';

export const page = (env) => `<!doctype html><meta charset="utf-8"><title>memory</title>
<script>
  window.probe = {};
  WebAssembly.Instance = new Proxy(WebAssembly.Instance, {
    construct(target, args, newTarget) {
      const instance = Reflect.construct(target, args, newTarget);
      const exports = Object.entries(instance.exports);
      probe.memory = exports.map(([, value]) => value).find((value) => value instanceof WebAssembly.Memory);
      probe.tables = exports.filter(([, value]) => value instanceof WebAssembly.Table);
      probe.initialBytes = probe.memory.buffer.byteLength; // before the module's start function runs
      return instance;
    },
  });
</script>
<iframe id="viewer"></iframe>
<script src="/dist/script/glance-agent.js"></script>
<script>
  const Agent = GLANCE.Agent;
  Agent.webserver = ${JSON.stringify(env.glanceOrigin)};
  Agent.authenticate(${JSON.stringify(credentials())});
  const tally = { viewerClosed: 0 };
  let connected = null;
  Agent.addEventListener('viewerClosed', () => { tally.viewerClosed++; });
  Agent.addEventListener('connecting', () => connected && connected());
  const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  function heapTop() {
    const words = new Uint32Array(probe.memory.buffer);
    const floor = probe.initialBytes / 4;
    for (let i = words.length - 1; i >= floor; i--) if (words[i] !== 0) return i * 4 + 4 - probe.initialBytes;
    return 0;
  }

  window.bench = {
    async snapshot() {
      performance.clearResourceTimings(); // every lookup and viewer load adds an entry
      for (let i = 0; i < 2; i++) { gc(); await pause(100); }
      return {
        jsHeap: performance.memory.usedJSHeapSize,
        wasmMemory: probe.memory.buffer.byteLength,
        heapTop: heapTop(),
        tableSlots: probe.tables.reduce((sum, [, table]) => sum + table.length, 0),
      };
    },
    async lookups(n) {
      for (let i = 0; i < n; i++) await Agent.lookupSession('1234');
    },
    async joins(n) {
      for (let i = 0; i < n; i++) {
        const loaded = new Promise((resolve) => { connected = resolve; });
        const viewer = await Agent.openViewer('1234', { iframe: 'viewer' });
        await loaded;
        Agent.close(viewer);
      }
    },
    async run({ operations, warmupLookups, warmupJoins }) {
      await Agent.ready;
      // Closures handed to JS (a lookup's fetch and timer callbacks, cancel()) keep their wasm block
      // until a collection finalises them, so the first batch raises the heap top to that backlog's
      // peak. V8's own code and feedback for these paths also take a few hundred operations to settle
      // in the JS heap; only then are batches measured.
      await bench.lookups(operations);
      const firstBatch = await bench.snapshot();
      await bench.lookups(warmupLookups);
      const beforeLookups = await bench.snapshot();
      await bench.lookups(operations);
      const afterLookups = await bench.snapshot();
      await bench.joins(warmupJoins);
      const beforeJoins = await bench.snapshot();
      await bench.joins(operations);
      const afterJoins = await bench.snapshot();
      return { firstBatch, beforeLookups, afterLookups, beforeJoins, afterJoins, closed: tally.viewerClosed };
    },
  };
</script>`;

/** One run: what `operations` lookups, then `operations` joins, add to each measure, per operation. */
export async function measureMemory(env, { operations, warmupLookups, warmupJoins }) {
  const tab = await env.open(env.page('memory.html', page(env)));
  const viewersBefore = env.counts.viewers;
  const result = await tab.tab.evaluate((options) => bench.run(options), { operations, warmupLookups, warmupJoins });
  await tab.close();
  const joins = warmupJoins + operations;
  if (result.closed !== joins || env.counts.viewers - viewersBefore !== joins) {
    throw new Error(`not every join completed: ${result.closed} closed, ${env.counts.viewers - viewersBefore} loaded, ${joins} expected`);
  }
  const { firstBatch, beforeLookups, afterLookups, beforeJoins, afterJoins } = result;
  const figures = { heapTopFirstBatch: firstBatch.heapTop };
  for (const key of ['jsHeap', 'wasmMemory', 'heapTop', 'tableSlots']) {
    figures[`${key}PerLookup`] = (afterLookups[key] - beforeLookups[key]) / operations;
    figures[`${key}PerJoin`] = (afterJoins[key] - beforeJoins[key]) / operations;
  }
  figures.wasmMemoryEnd = afterJoins.wasmMemory;
  figures.heapTopEnd = afterJoins.heapTop;
  figures.jsHeapEnd = afterJoins.jsHeap;
  figures.tableSlotsEnd = afterJoins.tableSlots;
  return figures;
}
