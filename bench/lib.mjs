// Shared setup for the benchmark: two local origins, headless Chromium, and small statistics helpers.
//
// - The console origin serves dist/ and the benchmark's pages (`page(name, html)`), never cached, so
//   every new browser context loads cold.
// - The Glance origin (another port, so requests are cross-origin as in production) answers
//   LookupPartnerSession2 at once with a "found" document, and serves a viewer page at
//   /agentjoin/AgentView.aspx (GET or POST) that sends `stats` events to the console on command.
import { join } from 'node:path';
import { CONTENT_TYPES, FOUND, fileUnder, launchChromium, listen, loginKey, MEMORY_ARGS, readBody, root,
  sendFile, watchProblems }
  from '../tests/support/local.mjs';

export { root };

/** Credentials of the right shape, valid for an hour (the stub service does not check signatures). */
export const credentials = () => ({ loginkey: loginKey(), partnerid: 20541, partneruserid: 'agent 7' });

// The stub viewer. It announces itself with `connecting` (the page knows it has loaded), then obeys
// commands only from the window that embeds or opened it, and only when that window is the console:
// `burst` posts n `stats` events back to back, `one` posts one stamped with the send time (on the
// epoch-based clock both documents share: timeOrigin + now()).
const viewer = (consoleOrigin) => `<!doctype html><title>viewer</title>
<script>
  const consoleOrigin = ${JSON.stringify(consoleOrigin)};
  const host = window.opener || window.parent;
  const stats = (extra) => ({ glanceEvent: 'stats', data: { service: 'screenshare', bytespersec: 1, ...extra } });
  addEventListener('message', (event) => {
    if (event.source !== host || event.origin !== consoleOrigin || !event.data) return;
    if (event.data.bench === 'burst') {
      for (let i = 0; i < event.data.n; i++) host.postMessage(stats(), consoleOrigin);
    } else if (event.data.bench === 'one') {
      host.postMessage(stats({ sentAt: performance.timeOrigin + performance.now() }), consoleOrigin);
    }
  });
  host.postMessage({ glanceEvent: 'connecting', data: { service: 'screenshare', ssnkey: '1234' } }, consoleOrigin);
</script>`;

/**
 * Starts both origins and a browser. `stop()` ends all three. `replace` maps console paths to other
 * files to serve there (bench/profile.mjs serves a module with function names that way).
 */
export async function start({ replace = {} } = {}) {
  const pages = new Map();
  const counts = { lookups: 0, viewers: 0 };

  const consoleServer = await listen(async (request, response) => {
    const path = new URL(request.url, 'http://console').pathname;
    const headers = { 'Cache-Control': 'no-store' };
    if (path === '/favicon.ico') { response.writeHead(204); return response.end(); }
    if (pages.has(path)) {
      response.writeHead(200, { ...headers, 'Content-Type': CONTENT_TYPES['.html'] });
      return response.end(pages.get(path));
    }
    if (replace[path]) return sendFile(response, root, replace[path], headers);
    return sendFile(response, join(root, 'dist'), fileUnder(root, path), headers);
  });
  const consoleOrigin = `http://127.0.0.1:${consoleServer.address().port}`;

  const glanceServer = await listen(async (request, response) => {
    await readBody(request); // the lookup form or the viewer's POST form, read before answering
    const path = new URL(request.url, 'http://glance').pathname;
    if (path === '/services/SessionService.asmx/LookupPartnerSession2') {
      counts.lookups++;
      // Resource Timing gives startTime and responseEnd of a cross-origin request without Timing-Allow-Origin.
      response.writeHead(200, { 'Content-Type': 'text/xml', 'Access-Control-Allow-Origin': consoleOrigin,
        'Cache-Control': 'no-store' });
      return response.end(FOUND(glanceOrigin));
    }
    if (path === '/agentjoin/AgentView.aspx') {
      counts.viewers++;
      response.writeHead(200, { 'Content-Type': CONTENT_TYPES['.html'], 'Cache-Control': 'no-store' });
      return response.end(viewer(consoleOrigin));
    }
    response.writeHead(404);
    response.end();
  });
  const glanceOrigin = `http://127.0.0.1:${glanceServer.address().port}`;

  const browser = await launchChromium({ args: MEMORY_ARGS });

  return {
    consoleOrigin,
    glanceOrigin,
    counts,
    browser,
    /** Serves `html` at `/bench/<name>` on the console origin; returns its URL. */
    page(name, html) {
      pages.set(`/bench/${name}`, html);
      return `${consoleOrigin}/bench/${name}`;
    },
    /**
     * Opens `url` in a fresh context (empty cache) and returns the tab. Page errors and console errors
     * fail the run: a benchmark of a broken page measures nothing.
     */
    async open(url) {
      const context = await browser.newContext();
      const tab = await context.newPage();
      const problems = [];
      watchProblems(tab, problems);
      await tab.goto(url);
      return {
        context,
        tab,
        async close() {
          await context.close();
          if (problems.length) throw new Error(`${url}: ${problems.join('; ')}`);
        },
      };
    },
    async stop() {
      await browser.close();
      consoleServer.close();
      glanceServer.close();
    },
  };
}

/** The median of numbers (the mean of the middle two for an even count). */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/**
 * The mean of the middle 80%. Chromium's performance.now() has a 0.1 ms step (with jitter) outside
 * cross-origin isolated pages, so the median of sub-millisecond samples can only land on that step;
 * a trimmed mean resolves below it and still ignores outliers.
 */
export function trimmedMean(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const cut = Math.floor(sorted.length / 10);
  const kept = sorted.slice(cut, sorted.length - cut);
  return kept.reduce((sum, value) => sum + value, 0) / kept.length;
}

/** `{median, min, max, runs}` of one figure over the runs. */
export function summary(runs) {
  return { median: median(runs), min: Math.min(...runs), max: Math.max(...runs), runs };
}
