// End-to-end setup: the local Glance service (examples/glance-service, the real binary) on one origin,
// a console origin served from Node on another, and headless Chromium (/usr/bin/chromium).
//
// The console origin serves www/ at `/`, dist/ at `/dist/`, the bundled npm app at `/app/` and test
// pages registered with `page(name, html)` at `/e2e/<name>`. Each test file starts its own service
// process, so fault switches and sessions never leak between files.
import { after, before } from 'node:test';
import { spawn } from 'node:child_process';
import http from 'node:http';
import { join } from 'node:path';
import { CONTENT_TYPES, fileUnder, launchChromium, root, sendFile, watchProblems } from '../support/local.mjs';

export { root };
const SERVICE = join(root, 'target/debug/glance-service');

/** The console origin: www/, dist/, the bundled app and registered pages; everything else is 404. */
function consoleServer(pages) {
  const mounts = [['/dist/', 'dist'], ['/app/', 'target/e2e-app'], ['/', 'www']];
  const server = http.createServer(async (request, response) => {
    const path = new URL(request.url, 'http://console').pathname;
    if (path === '/favicon.ico') { response.writeHead(204); return response.end(); }
    const page = pages.get(path);
    if (page) {
      response.writeHead(200, { 'Content-Type': CONTENT_TYPES['.html'], ...page.headers });
      return response.end(page.body);
    }
    const [prefix, dir] = mounts.find(([prefix]) => path.startsWith(prefix));
    const base = join(root, dir);
    return sendFile(response, base, fileUnder(base, path.slice(prefix.length) || 'index.html'));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/**
 * Starts the service binary with `args`, resolving once it has printed the address of each of
 * `origins` (the words before a URL in its start-up lines: `service`, `console`).
 */
export function startService(args, origins = ['service']) {
  const child = spawn(SERVICE, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let output = '';
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`glance-service exited (${code}): ${output}`)));
    child.stdout.on('data', (chunk) => {
      output += chunk;
      const found = origins.map((word) => output.match(new RegExp(`${word} (http://127\\.0\\.0\\.1:\\d+/?)`)));
      if (found.every(Boolean)) resolve({ child, urls: found.map((match) => match[1]) });
    });
  });
}

/** The service for a test file: no console of its own, `consoleOrigin` allowed, a test agent. */
async function serviceFor(consoleOrigin) {
  const { child, urls } = await startService(['--port', '0', '--no-console', '--console-origin', consoleOrigin,
    '--api-key', 'e2e-api-key', '--partner-id', '20541', '--agent-id', 'agent 7/ü']);
  return { child, webserver: urls[0] };
}

export async function start({ popupBlocking = false, args = [] } = {}) {
  const pages = new Map();
  const server = await consoleServer(pages);
  const consoleOrigin = `http://127.0.0.1:${server.address().port}`;
  let child;
  let browser;
  // Whatever started is stopped again if a later step fails, so a failed start cannot hang the run.
  const release = async () => {
    await browser?.close().catch(() => {});
    child?.kill();
    server.close();
  };
  let webserver;
  try {
    ({ child, webserver } = await serviceFor(consoleOrigin));
    // Playwright turns popup blocking off; a test of popupblocked needs Chromium's own blocker.
    browser = await launchChromium({ args, ignoreDefaultArgs: popupBlocking ? ['--disable-popup-blocking'] : [] });
  } catch (error) {
    await release();
    throw error;
  }

  /** Calls the service's JSON API (the visitor simulator's and the developer endpoints). */
  async function api(path, body) {
    const response = await fetch(webserver + path, body === undefined ? {} : {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    const text = await response.text();
    const answer = text ? JSON.parse(text) : null;
    if (!response.ok) throw new Error(`${path}: ${response.status} ${JSON.stringify(answer)}`);
    return answer;
  }

  return {
    consoleOrigin,
    webserver,
    api,
    /** Credentials for authenticate(), minted by the service; `expiresIn` in seconds may be negative. */
    async credentials({ expiresIn = 3600, partneruserid } = {}) {
      const query = new URLSearchParams({ expires_in: expiresIn });
      if (partneruserid) query.set('partneruserid', partneruserid);
      const { loginkey, partnerid, partneruserid: agent } = await api(`/dev/loginkey?${query}`);
      return { loginkey, partnerid, partneruserid: agent };
    },
    startSession: (key, calltype = 'C') => api('/visitor/api/sessions', { key, calltype, visitor: 'Vera Visitor' }),
    emit: (key, name, data, service) => api(`/visitor/api/sessions/${encodeURIComponent(key)}/events`, { name, data, service }),
    end: (key, data) => api(`/visitor/api/sessions/${encodeURIComponent(key)}/end`, { data }),
    faults: (faults) => api('/dev/faults', faults),
    /** Serves `html` at `/e2e/<name>` on the console origin and returns its URL. */
    page(name, html, headers = {}) {
      pages.set(`/e2e/${name}`, { body: html, headers });
      return `${consoleOrigin}/e2e/${name}`;
    },
    /**
     * A fresh context and page on `url`, recording page errors, console errors and every request any
     * of its pages (popups too) makes.
     */
    async open(url, contextOptions = {}) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, ...contextOptions });
      const problems = [];
      const requests = [];
      context.on('page', (tab) => watchProblems(tab, problems));
      context.on('request', (request) => requests.push({ url: request.url(), method: request.method(), body: request.postData() }));
      const tab = await context.newPage();
      if (url) await tab.goto(url);
      return { context, tab, problems, requests };
    },
    stop: release,
  };
}

/**
 * For a test file: a service with popups allowed (`env`) and one with Chromium's popup blocker on
 * (`blocking`), started before its tests and stopped after them.
 */
export function twoServices() {
  const services = {};
  before(async () => {
    services.env = await start();
    services.blocking = await start({ popupBlocking: true });
  });
  after(async () => {
    await services.env?.stop();
    await services.blocking?.stop();
  });
  return services;
}

/** A console page that loads the script-tag build, records every event, and points it at the service. */
export function consolePage(env, { body = '', credentials } = {}) {
  return `<!doctype html><meta charset="utf-8"><title>e2e console</title>
    <script src="/dist/script/glance-agent.js"></script>
    <script>
      window.events = [];
      window.named = [];
      GLANCE.Agent.webserver = ${JSON.stringify(env.webserver)};
      GLANCE.Agent.addEventListenerAll((name, data) => {
        const copy = {};
        for (const [key, value] of Object.entries(data || {})) copy[key] = typeof value === 'function' ? 'ƒ' : value;
        events.push({ name, data: copy, at: performance.now() });
      });
      ${credentials ? `GLANCE.Agent.authenticate(${JSON.stringify(credentials)});` : ''}
      // Settles into a plain record: the tests read outcomes without racing the promise.
      // Bounded, so a promise that never settles fails its test instead of hanging the run.
      window.outcome = (promise) => Promise.race([promise.then(
        (value) => ({ ok: true, value: value && typeof value === 'object' && 'closed' in value ? 'window' : value }),
        (error) => ({ ok: false, isError: error instanceof Error, code: error && error.code, message: error && error.message })),
        new Promise((resolve) => setTimeout(resolve, 60000, { ok: false, code: 'unsettled after 60 s' }))]);
    </script>${body}`;
}

/** Polls `read` in the page until it returns a truthy value (or `timeout` ms pass). */
export async function until(tab, read, arg, timeout = 15000) {
  const handle = await tab.waitForFunction(read, arg, { timeout, polling: 50 });
  return handle.jsonValue();
}

export const names = (events) => events.map((event) => `${event.name}:${event.data.service}`);
