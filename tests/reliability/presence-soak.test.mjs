// Presence soak: 200 connect → visitor seen → disconnect cycles in one page (every other cycle
// replaced by a second presenceConnect before it disconnects), against the local presence server.
// The JS heap (after a forced GC) and the module's wasm memory must each grow by less than 1 MB from a
// warmed-up start, and the server must be left with no agent socket open.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { chromiumOnly, consolePage, start } from '../e2e/harness.mjs';
import { CATCH_WASM_MEMORY, MEMORY_ARGS } from '../support/local.mjs';
import { report } from './report.mjs';

const CYCLES = 200;
const WARM_UP = 20;
const MB = 1024 * 1024;
const VISITOR = 'soak-visitor';

let env;
before(async () => { env = await start({ args: MEMORY_ARGS }); });
after(() => env?.stop());

const PAGE = `<script>
  const agent = GLANCE.Agent;
  let seen = 0;
  let disconnected = 0;
  agent.addEventListener('visitorConnected', (name, data) => { if (data.connected) seen += 1; });
  agent.addEventListener('presenceDisconnected', () => { disconnected += 1; });
  window.tally = () => ({ seen, disconnected });
  window.cycles = async (count, visitor) => {
    for (let cycle = 0; cycle < count; cycle += 1) {
      await agent.presenceConnect(visitor);
      if (cycle % 2 === 1) await agent.presenceConnect(visitor); // replaces the first
      agent.presenceDisconnect();
    }
  };
  window.measure = async () => {
    events.length = 0; // the page's own record of events (consolePage) is not the library's memory
    for (let round = 0; round < 3; round += 1) { gc(); await new Promise((resolve) => setTimeout(resolve, 50)); }
    return { heap: performance.memory.usedJSHeapSize, wasm: window.wasmMemory.buffer.byteLength };
  };
</script>`;

test(`presence soak: ${CYCLES} connect/disconnect cycles grow neither heap by 1 MB and leave no socket open`, async () => {
  const visitor = await env.visitor(`${env.webserver}/visitor?visitorid=${VISITOR}`);
  await visitor.tab.waitFor('#presence-state[data-state="online"]');
  const credentials = await env.credentials();
  const { tab, context, problems } = await chromiumOnly(env.open(env.page('presence-soak.html',
    CATCH_WASM_MEMORY + consolePage(env, { credentials, body: PAGE }))));
  await tab.evaluate(({ count, visitor }) => cycles(count, visitor), { count: WARM_UP, visitor: VISITOR });
  const begin = await tab.evaluate(() => measure());

  const began = Date.now();
  await tab.evaluate(({ count, visitor }) => cycles(count, visitor), { count: CYCLES, visitor: VISITOR });
  const seconds = (Date.now() - began) / 1000;
  const end = await tab.evaluate(() => measure());
  const tally = await tab.evaluate(() => tally());
  const state = await tab.evaluate(() => GLANCE.Agent.presenceState);

  // What the server saw of the sockets closing comes a moment after the page closed them.
  let counts;
  for (const waited = Date.now(); Date.now() - waited < 5000;) {
    ({ counts } = await env.api('/dev/presence'));
    if (counts.agentSockets === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await context.close();
  await visitor.close();

  const connects = WARM_UP + CYCLES + (WARM_UP + CYCLES) / 2;
  const figures = {
    cycles: CYCLES, seconds, msPerCycle: Math.round((seconds * 1000) / CYCLES), connects,
    begin, end, heapGrowth: end.heap - begin.heap, wasmGrowth: end.wasm - begin.wasm,
    socketsLeft: counts.agentSockets, socketsOpened: counts.connectFrames.length,
  };
  report('presence-soak', figures);
  assert.equal(state, 'idle');
  assert.equal(tally.seen, connects, 'the visitor was seen once per connect');
  assert.equal(tally.disconnected, WARM_UP + CYCLES, 'one presenceDisconnected per disconnect');
  assert.equal(counts.connectFrames.length, connects, 'one socket per connect, no reconnects');
  assert.equal(counts.agentSockets, 0, 'no socket left open');
  assert.ok(figures.heapGrowth < MB, `JS heap grew ${figures.heapGrowth} bytes`);
  assert.ok(figures.wasmGrowth < MB, `wasm memory grew ${figures.wasmGrowth} bytes`);
  assert.deepEqual(problems, []);
});
