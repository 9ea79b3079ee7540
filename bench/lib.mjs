// Shared setup for the benchmark: two local origins, headless Chromium, and small statistics helpers.
//
// - The console origin serves dist/ and the benchmark's pages (`page(name, html)`), never cached, so
//   every new browser context loads cold.
// - The Glance origin (another port, so requests are cross-origin as in production) answers
//   LookupPartnerSession2 at once with a "found" document, and serves a viewer page at
//   /agentjoin/AgentView.aspx (GET or POST) that sends `stats` events to the console on command.
import http from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const root = fileURLToPath(new URL('..', import.meta.url));

const TYPES = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm',
  '.html': 'text/html; charset=utf-8' };

export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run',
  // For the memory figures: gc() in pages, and performance.memory without its 100 KB quantisation.
  '--js-flags=--expose-gc', '--enable-precise-memory-info'];

const SIGNATURE = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNO-_';
/** Credentials of the right shape, valid for an hour (the stub service does not check signatures). */
export const credentials = () => ({
  loginkey: `$1$${Math.floor(Date.now() / 1000) + 3600}$${SIGNATURE}`, partnerid: 20541, partneruserid: 'agent 7',
});

const found = (origin) => `<?xml version="1.0" encoding="utf-8"?>
<SessionInfo xmlns="http://www.glance.net/"><id>77</id><ssnid>20541.1234.1</ssnid><passcode>1234</passcode>
<agentjoinurl>${origin}/agentjoin/AgentView.aspx?SessionKey=1234&amp;ssnid=20541.1234.1</agentjoinurl>
<calltype>C</calltype></SessionInfo>`;

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

function listen(handler) {
  return new Promise((resolve) => {
    const server = http.createServer(handler);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

/** Drains a request body (the lookup form and the viewer's POST form) before answering. */
function drain(request) {
  return new Promise((resolve) => {
    request.on('data', () => {});
    request.on('end', resolve);
  });
}

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
      response.writeHead(200, { ...headers, 'Content-Type': TYPES['.html'] });
      return response.end(pages.get(path));
    }
    const base = join(root, 'dist');
    const file = replace[path] || normalize(join(root, path));
    if (!replace[path] && !file.startsWith(base + sep)) { response.writeHead(404); return response.end(); }
    try {
      const bytes = await readFile(file);
      response.writeHead(200, { ...headers, 'Content-Type': TYPES[extname(file)] || 'application/octet-stream' });
      response.end(bytes);
    } catch {
      response.writeHead(404);
      response.end();
    }
  });
  const consoleOrigin = `http://127.0.0.1:${consoleServer.address().port}`;

  const glanceServer = await listen(async (request, response) => {
    await drain(request);
    const path = new URL(request.url, 'http://glance').pathname;
    if (path === '/services/SessionService.asmx/LookupPartnerSession2') {
      counts.lookups++;
      // Resource Timing gives startTime and responseEnd of a cross-origin request without Timing-Allow-Origin.
      response.writeHead(200, { 'Content-Type': 'text/xml', 'Access-Control-Allow-Origin': consoleOrigin,
        'Cache-Control': 'no-store' });
      return response.end(found(glanceOrigin));
    }
    if (path === '/agentjoin/AgentView.aspx') {
      counts.viewers++;
      response.writeHead(200, { 'Content-Type': TYPES['.html'], 'Cache-Control': 'no-store' });
      return response.end(viewer(consoleOrigin));
    }
    response.writeHead(404);
    response.end();
  });
  const glanceOrigin = `http://127.0.0.1:${glanceServer.address().port}`;

  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });

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
      tab.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
      tab.on('console', (message) => { if (message.type() === 'error') problems.push(`console: ${message.text()}`); });
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
