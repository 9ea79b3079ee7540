// Dispatch: viewer `postMessage` → the page's listeners.
//
// The library dispatches only messages from a viewer it opened, on the webserver's origin, so the
// viewer is opened for real: `openViewer(key, {iframe})` POSTs the form into an iframe (no popup) and
// the stub viewer page loads there. On command it posts n `stats` events back to back; the page counts
// until its last listener has seen all n. Two rates come out:
// - end to end: n / (command sent → last delivery), including the viewer's own posting loop;
// - dispatch: (n - 1) / (first delivery → last delivery), the receiving side alone.
// Latency: the viewer stamps one event with timeOrigin + now(); the listener subtracts that from its
// own timeOrigin + now(). One event at a time, so nothing queues. That is below the 0.1 ms step of
// performance.now() here, so the mean round trip (console → viewer → listener) over the same events
// is measured too: two postMessage hops, one of them through the library.
//
// The same page without the library (an iframe loaded by GET, one `message` listener that checks
// origin, source and shape, then calls a list of handlers) gives a floor: the browser's cost plus the
// least a script could add.
import { credentials, median, trimmedMean } from './lib.mjs';

// Shared by both pages: `subscribe(handler)` adds one listener, `unsubscribe(handler)` removes it,
// `target()` is the viewer's window. Handlers are called as the library calls them: (name, data).
const MEASURE = `
  // k listeners; the first notes the first delivery, the last counts to n.
  bench.burst = (k, n) => new Promise((resolve) => {
    let first = 0;
    let count = 0;
    let sent = 0;
    const handlers = [];
    for (let j = 0; j < k; j++) {
      let calls = 0;
      handlers.push(() => {
        if (j === 0 && calls === 0) first = performance.now();
        calls++;
        if (j === k - 1 && ++count === n) {
          const last = performance.now();
          handlers.forEach(unsubscribe);
          resolve({ endToEnd: (n * 1000) / (last - sent), dispatch: ((n - 1) * 1000) / (last - first) });
        }
      });
    }
    handlers.forEach(subscribe);
    sent = performance.now();
    target().postMessage({ bench: 'burst', n }, GLANCE);
  });

  // One event at a time: the stamped one-way latency of each, and the mean round trip (command to
  // the viewer, event back to the listener) timed over all of them, which the timer step cannot blur.
  bench.latency = async (samples) => {
    const oneWay = [];
    let pending = null;
    const handler = (name, data) => {
      oneWay.push(performance.timeOrigin + performance.now() - data.sentAt);
      pending();
    };
    subscribe(handler);
    const began = performance.now();
    for (let i = 0; i < samples; i++) {
      await new Promise((resolve) => {
        pending = resolve;
        target().postMessage({ bench: 'one' }, GLANCE);
      });
    }
    const roundTrip = (performance.now() - began) / samples;
    unsubscribe(handler);
    return { oneWay, roundTrip };
  };

  bench.run = async ({ listeners, events, repeats, warmup, samples }) => {
    await bench.connected;
    // Latency first: after the 100-listener bursts a page can stay several times slower for a second
    // or two (see docs/PERFORMANCE.md). One pass warms the path up, the second is measured.
    await bench.latency(samples);
    const latency = await bench.latency(samples);
    // V8 runs new JS and wasm on baseline tiers and optimises hot code as it goes (the first bursts
    // are several times slower); these figures are for the optimised steady state.
    for (let i = 0; i < warmup; i++) await bench.burst(10, events);
    const bursts = {};
    for (const k of listeners) {
      bursts[k] = [];
      for (let i = 0; i < repeats; i++) bursts[k].push(await bench.burst(k, events));
    }
    return { bursts, latency };
  };
`;

export const libraryPage = (env) => `<!doctype html><meta charset="utf-8"><title>dispatch</title>
<iframe id="viewer"></iframe>
<script src="/dist/script/glance-agent.js"></script>
<script>
  const GLANCE = ${JSON.stringify(env.glanceOrigin)};
  const Agent = window.GLANCE.Agent;
  Agent.webserver = GLANCE;
  Agent.authenticate(${JSON.stringify(credentials())});
  const subscribe = (handler) => Agent.addEventListener('stats', handler);
  const unsubscribe = (handler) => Agent.removeEventListener('stats', handler);
  let viewer = null;
  const target = () => viewer;
  window.bench = {};
  bench.connected = new Promise((resolve) => {
    Agent.addEventListener('connecting', function once() { Agent.removeEventListener('connecting', once); resolve(); });
  }).then(() => opened);
  const opened = Agent.openViewer('1234', { iframe: 'viewer' }).then((window) => { viewer = window; });
  ${MEASURE}
</script>`;

export const plainPage = (env) => `<!doctype html><meta charset="utf-8"><title>dispatch baseline</title>
<iframe id="viewer" src="${env.glanceOrigin}/agentjoin/AgentView.aspx?SessionKey=1234"></iframe>
<script>
  const GLANCE = ${JSON.stringify(env.glanceOrigin)};
  const frame = document.getElementById('viewer');
  const target = () => frame.contentWindow;
  // The least a script could do: one message listener, the same checks, a copied list of handlers.
  let handlers = [];
  const subscribe = (handler) => { handlers = [...handlers, handler]; };
  const unsubscribe = (handler) => { handlers = handlers.filter((h) => h !== handler); };
  window.bench = {};
  bench.connected = new Promise((resolve) => {
    addEventListener('message', (event) => {
      const message = event.data;
      if (event.origin !== GLANCE || event.source !== frame.contentWindow || !message || typeof message.glanceEvent !== 'string') return;
      if (message.glanceEvent === 'connecting') resolve();
      if (message.glanceEvent !== 'stats') return;
      for (const handler of handlers) {
        try { handler(message.glanceEvent, message.data); } catch (error) { console.error(error); }
      }
    });
  });
  ${MEASURE}
</script>`;

async function measurePage(env, name, html, options) {
  const page = await env.open(env.page(name, html));
  const { bursts, latency } = await page.tab.evaluate((options) => bench.run(options), options);
  await page.close();
  const result = { latency: median(latency.oneWay), latencyMean: trimmedMean(latency.oneWay), roundTrip: latency.roundTrip };
  for (const [k, repeats] of Object.entries(bursts)) {
    result[`endToEnd${k}`] = median(repeats.map((rates) => rates.endToEnd));
    result[`dispatch${k}`] = median(repeats.map((rates) => rates.dispatch));
  }
  return result;
}

/**
 * One run: the library page and the plain page, each fresh. Rates in events per second (the median of
 * `repeats` bursts per listener count); latency in ms: median and trimmed mean of `samples` one-way
 * stamps, and their mean round trip.
 */
export async function measureDispatch(env, options) {
  return {
    library: await measurePage(env, 'dispatch.html', libraryPage(env), options),
    plain: await measurePage(env, 'dispatch-plain.html', plainPage(env), options),
  };
}
