// Ready time of the script tag, cold: from the browser starting to load glance-agent.js to
// `GLANCE.Agent` being defined (the tag has run; calls are accepted and queued), and to
// `GLANCE.Agent.ready` resolving (the wasm module is fetched, compiled and instantiated).
//
// The start is the script's Resource Timing startTime. An inline script just before the tag takes a
// timestamp too; the preload scanner can start the fetch before that script runs, so it is kept only
// as a cross-check.
import { median } from './lib.mjs';

const PAGE = `<!doctype html><meta charset="utf-8"><title>ready</title>
<script>window.bench = { inline: performance.now() };</script>
<script src="/dist/script/glance-agent.js"></script>
<script>
  bench.defined = performance.now();
  bench.complete = typeof GLANCE.Agent.lookupSession === 'function';
  bench.loaded = GLANCE.Agent.ready.then(() => { bench.ready = performance.now(); });
</script>`;

/** One cold page load: every figure in ms from the script's startTime. */
async function load(env, url) {
  const page = await env.open(url);
  const timings = await page.tab.evaluate(async () => {
    await bench.loaded;
    const entry = (suffix) => performance.getEntriesByType('resource').find((e) => e.name.endsWith(suffix));
    const script = entry('/glance-agent.js');
    const wasm = entry('/glance_agent_bg.wasm');
    return {
      complete: bench.complete,
      start: script.startTime,
      inline: bench.inline,
      defined: bench.defined,
      ready: bench.ready,
      scriptEnd: script.responseEnd,
      wasmStart: wasm.startTime,
      wasmEnd: wasm.responseEnd,
    };
  });
  await page.close();
  if (!timings.complete) throw new Error('GLANCE.Agent was not complete when the tag had run');
  const since = (t) => t - timings.start;
  return {
    defined: since(timings.defined),
    ready: since(timings.ready),
    definedFromInline: timings.defined - timings.inline,
    readyFromInline: timings.ready - timings.inline,
    scriptDownloaded: since(timings.scriptEnd),
    scriptRun: timings.defined - timings.scriptEnd, // parse, compile and run the tag
    wasmRequested: since(timings.wasmStart),
    wasmDownloaded: since(timings.wasmEnd),
    // Compile (streaming, so partly overlapping the download), instantiate, start, resolve.
    wasmToReady: timings.ready - timings.wasmEnd,
  };
}

/** One run: `loads` cold loads, each in a new browser context; the median of each figure. */
export async function measureReady(env, { loads }) {
  const url = env.page('ready.html', PAGE);
  const samples = [];
  for (let i = 0; i < loads; i++) samples.push(await load(env, url));
  const result = {};
  for (const key of Object.keys(samples[0])) result[key] = median(samples.map((s) => s[key]));
  return result;
}
