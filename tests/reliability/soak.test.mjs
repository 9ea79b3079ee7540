// Soak: a shift in one page. 1,000 join → viewer event → close cycles, then 10,000 relayed viewer
// events, against the local service. The JS heap (after a forced GC) and the module's wasm memory must
// each grow by less than 1 MB from a warmed-up start.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { chromiumOnly, consolePage, start } from '../e2e/harness.mjs';
import { CATCH_WASM_MEMORY, MEMORY_ARGS } from '../support/local.mjs';
import { report } from './report.mjs';

const CYCLES = 1000;
const EVENTS = 10000;
const WARM_UP = 20;
const WARM_UP_EVENTS = 1000;
const MB = 1024 * 1024;

let env;
before(async () => { env = await start({ args: MEMORY_ARGS }); });
after(() => env?.stop());

const PAGE = `<iframe id="viewer"></iframe><script>
  const agent = GLANCE.Agent;
  let connected = () => {};
  let relayed = 0;
  agent.addEventListener('connecting', () => connected());
  let closed = 0;
  agent.addEventListener('stats', () => { relayed += 1; });
  agent.addEventListener('viewerClosed', () => { closed += 1; });
  window.closedCount = () => closed;
  window.cycles = async (count) => {
    for (let cycle = 0; cycle < count; cycle += 1) {
      const heard = new Promise((resolve) => { connected = resolve; });
      const viewer = await agent.joinSession('8301', { iframe: 'viewer' });
      await heard;
      agent.close(viewer);
    }
  };
  window.openViewer = async () => {
    const heard = new Promise((resolve) => { connected = resolve; });
    window.viewer = await agent.openViewer('8301', { iframe: 'viewer' });
    await heard;
  };
  window.relayedCount = () => relayed;
  window.measure = async () => {
    events.length = 0; // the page's own record of events (consolePage) is not the library's memory
    for (let round = 0; round < 3; round += 1) { gc(); await new Promise((resolve) => setTimeout(resolve, 50)); }
    return { heap: performance.memory.usedJSHeapSize, wasm: window.wasmMemory.buffer.byteLength };
  };
</script>`;

test(`soak: ${CYCLES} join/event/close cycles and ${EVENTS} relayed events grow neither heap by 1 MB`, async () => {
  await env.startSession('8301', 'G');
  const credentials = await env.credentials();
  const { tab, context, problems } = await chromiumOnly(env.open(env.page('soak.html',
    CATCH_WASM_MEMORY + consolePage(env, { credentials, body: PAGE }))));
  // Warm-up: the first thousand events cost about 600 KB of heap once (V8's code and feedback for the
  // path), and then nothing more (measured over four further rounds of 10,000); the soak starts after it.
  await tab.evaluate((count) => cycles(count), WARM_UP);
  await tab.evaluate(() => openViewer());
  await env.api('/visitor/api/sessions/8301/events', { name: 'stats', count: WARM_UP_EVENTS });
  await tab.waitForFunction((count) => relayedCount() === count, WARM_UP_EVENTS, { timeout: 60000, polling: 100 });
  await tab.evaluate(() => agent.close(window.viewer));
  const start = await tab.evaluate(() => measure());

  const began = Date.now();
  await tab.evaluate((count) => cycles(count), CYCLES);
  const cycleSeconds = (Date.now() - began) / 1000;
  const afterCycles = await tab.evaluate(() => measure());

  await tab.evaluate(() => openViewer());
  await env.api('/visitor/api/sessions/8301/events', { name: 'stats', count: EVENTS });
  await tab.waitForFunction((count) => relayedCount() === count, WARM_UP_EVENTS + EVENTS, { timeout: 120000, polling: 200 });
  // Measured with the viewer closed: a same-site viewer iframe shares the page's JS heap.
  const closed = await tab.evaluate(() => { agent.close(window.viewer); return closedCount(); });
  await tab.waitForTimeout(200);
  const afterEvents = await tab.evaluate(() => measure());
  await context.close();

  const figures = {
    cycles: CYCLES, cycleSeconds, events: EVENTS, start,
    afterCycles, afterEvents,
    heapGrowth: afterEvents.heap - start.heap, wasmGrowth: afterEvents.wasm - start.wasm,
  };
  report('soak', figures);
  assert.equal(closed, WARM_UP + CYCLES + 2, 'every viewer closed once');
  assert.ok(figures.heapGrowth < MB, `JS heap grew ${figures.heapGrowth} bytes`);
  assert.ok(figures.wasmGrowth < MB, `wasm memory grew ${figures.wasmGrowth} bytes`);
  assert.deepEqual(problems, []);
});
