// Lookup overhead: from the lookup response having arrived (Resource Timing responseEnd of the
// LookupPartnerSession2 request, on the performance.now() clock) to `lookupFound` firing and to the
// `lookupSession` promise resolving (seen by a `.then` on it).
//
// Part of that time is the browser's, not the library's: handing the body to the page, `text()`,
// DOMParser. So each library lookup is paired with a plain lookup done by hand (fetch, text(),
// DOMParser, read agentjoinurl) measured the same way: the difference is what the library adds.
import { credentials, median, trimmedMean } from './lib.mjs';

export const page = (env) => `<!doctype html><meta charset="utf-8"><title>lookup</title>
<script src="/dist/script/glance-agent.js"></script>
<script>
  const LOOKUP = ${JSON.stringify(env.glanceOrigin + '/services/SessionService.asmx/LookupPartnerSession2')};
  GLANCE.Agent.webserver = ${JSON.stringify(env.glanceOrigin)};
  GLANCE.Agent.authenticate(${JSON.stringify(credentials())});
  let foundAt = NaN;
  GLANCE.Agent.addEventListener('lookupFound', () => { foundAt = performance.now(); });

  // The entry is queued when the body is complete, which may be a task after the page has it.
  async function lookupEntry() {
    for (let i = 0; i < 100; i++) {
      const entries = performance.getEntriesByName(LOOKUP);
      if (entries.length) return entries[entries.length - 1];
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    throw new Error('no Resource Timing entry for the lookup');
  }

  window.bench = {
    async library() {
      performance.clearResourceTimings();
      foundAt = NaN;
      const started = performance.now();
      const resolvedAt = await GLANCE.Agent.lookupSession('1234').then(() => performance.now());
      const entry = await lookupEntry();
      return { found: foundAt - entry.responseEnd, resolved: resolvedAt - entry.responseEnd, total: resolvedAt - started };
    },
    async plain() {
      performance.clearResourceTimings();
      const started = performance.now();
      const body = 'partnerid=20541&partneruserid=agent%207&loginkey=x&ssnkey=1234';
      const resolvedAt = await fetch(LOOKUP, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body })
        .then((response) => response.text())
        .then((text) => {
          const xml = new DOMParser().parseFromString(text, 'text/xml');
          if (!xml.getElementsByTagNameNS('*', 'agentjoinurl').item(0).textContent) throw new Error('no agentjoinurl');
          return performance.now();
        });
      const entry = await lookupEntry();
      return { resolved: resolvedAt - entry.responseEnd, total: resolvedAt - started };
    },
  };
</script>`;

/**
 * One run: a fresh page, `warmup` pairs discarded, then `lookups` pairs; the median of each figure,
 * and the trimmed mean of the sub-millisecond ones.
 */
export async function measureLookup(env, { lookups, warmup }) {
  const tab = await env.open(env.page('lookup.html', page(env)));
  const samples = await tab.tab.evaluate(async ({ lookups, warmup }) => {
    await GLANCE.Agent.ready;
    const samples = [];
    for (let i = 0; i < warmup + lookups; i++) {
      const library = await bench.library();
      const plain = await bench.plain();
      if (i >= warmup) samples.push({ library, plain });
    }
    return samples;
  }, { lookups, warmup });
  await tab.close();
  const m = (pick) => median(samples.map(pick));
  const t = (pick) => trimmedMean(samples.map(pick));
  const added = (s) => s.library.resolved - s.plain.resolved;
  return {
    found: m((s) => s.library.found),
    resolved: m((s) => s.library.resolved),
    plainResolved: m((s) => s.plain.resolved),
    added: m(added),
    foundMean: t((s) => s.library.found),
    resolvedMean: t((s) => s.library.resolved),
    plainResolvedMean: t((s) => s.plain.resolved),
    addedMean: t(added),
    total: m((s) => s.library.total),
    plainTotal: m((s) => s.plain.total),
  };
}
