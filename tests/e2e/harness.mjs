// End-to-end setup: the local Glance service (examples/glance-service, the real binary) on one origin,
// a console origin served from Node on another, and the engine under test (ENGINE, see
// tests/support/engines.mjs).
//
// The console origin serves www/ at `/`, dist/ at `/dist/`, the bundled npm app at `/app/` and test
// pages registered with `page(name, html)` at `/e2e/<name>`. Each test file starts its own service
// process, so fault switches and sessions never leak between files.
import { after, before } from 'node:test';
import { spawn } from 'node:child_process';
import http from 'node:http';
import { join } from 'node:path';
import { COLLECTOR, COLLECTOR_PATH, ENGINE, launch, withCollector } from '../support/engines.mjs';
import { CONTENT_TYPES, fileUnder, readBody, root, sendFile } from '../support/local.mjs';

export { root };
export { ENGINE, isNetworkMessage, poll, sleep, unsupported } from '../support/engines.mjs';
const SERVICE = join(root, 'target/debug/glance-service');

/** A request the page made, not one the browser makes of its own (a CORS preflight, a favicon). */
const byThePage = (request) => request.method !== 'OPTIONS' && !request.url.startsWith('/favicon.ico');

/**
 * The console origin: www/, dist/, the bundled app and registered pages; everything else is 404.
 * It records every request, and answers `POST /__expose/<name>` with `exposed[name](...args)`.
 */
function consoleServer(pages, requests, exposed) {
  const mounts = [['/dist/', 'dist'], ['/app/', 'target/e2e-app'], ['/', 'www']];
  const server = http.createServer(async (request, response) => {
    const path = new URL(request.url, 'http://console').pathname;
    const body = await readBody(request);
    requests.push({ method: request.method, url: request.url, body });
    if (path === '/favicon.ico') { response.writeHead(204); return response.end(); }
    if (path === COLLECTOR_PATH) {
      response.writeHead(200, { 'Content-Type': CONTENT_TYPES['.js'] });
      return response.end(COLLECTOR);
    }
    const name = path.startsWith('/__expose/') && path.slice('/__expose/'.length);
    if (name && exposed.has(name)) {
      const result = await exposed.get(name)(...JSON.parse(body || '[]'));
      response.writeHead(200, { 'Content-Type': CONTENT_TYPES['.json'] });
      return response.end(JSON.stringify(result ?? null));
    }
    const page = pages.get(path);
    if (page) {
      response.writeHead(200, { 'Content-Type': CONTENT_TYPES['.html'], ...page.headers });
      return response.end(withCollector(page.body));
    }
    const [prefix, dir] = mounts.find(([prefix]) => path.startsWith(prefix));
    const base = join(root, dir);
    return sendFile(response, base, fileUnder(base, path.slice(prefix.length) || 'index.html'), {}, withCollector);
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
  const consoleRequests = [];
  const exposed = new Map();
  const server = await consoleServer(pages, consoleRequests, exposed);
  const consoleOrigin = `http://127.0.0.1:${server.address().port}`;
  let child;
  let browser;
  let visitors;
  // Whatever started is stopped again if a later step fails, so a failed start cannot hang the run.
  const release = async () => {
    await browser?.close().catch(() => {});
    await visitors?.close().catch(() => {});
    child?.kill();
    server.close();
  };
  let webserver;
  try {
    ({ child, webserver } = await serviceFor(consoleOrigin));
    browser = await launch({ popupBlocking, args });
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

  /**
   * What the service and the console origin received, as absolute URLs (`ws://` for a WebSocket):
   * the pages' requests, not the browser's own (CORS preflights, favicons) nor the harness's calls to
   * the service (they have no Origin and go to /dev/ or /visitor/api/).
   */
  const requests = {
    mark: async () => ({ service: (await api('/dev/requests?since=' + Number.MAX_SAFE_INTEGER)).last, console: consoleRequests.length }),
    since: async (mark) => {
      const { requests: seen } = await api(`/dev/requests?since=${mark.service}`);
      const service = seen.filter((request) => !/^\/(dev\/|visitor\/api\/)/.test(request.url) || request.origin)
        .filter(byThePage)
        .map((request) => ({ ...request, url: `${request.websocket ? 'ws' : 'http'}://${request.host}${request.url}` }));
      const own = consoleRequests.slice(mark.console).filter(byThePage).map((request) => ({ ...request, url: consoleOrigin + request.url }));
      return [...own, ...service];
    },
  };

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
     * Lets console pages call `fn` in the test: `consolePage(env, {expose: [name]})` defines
     * `window[name](...args)`, which resolves with what `fn(...args)` resolved (JSON).
     */
    expose(name, fn) { exposed.set(name, fn); },
    /**
     * A fresh browser session on `url` (none: a blank one), recording page errors, console errors and
     * console messages of its pages, popups included (see engines.mjs for what each engine can see).
     */
    async open(url) {
      const session = await browser.newSession({ requests });
      if (url) await session.tab.goto(url);
      return session;
    },
    /**
     * The visitor simulator's browser (the customer's, not the agent's): Chromium on every engine run,
     * so that a run tests the agent's console in the engine under test.
     */
    async visitor(url) {
      visitors ??= ENGINE === 'chromium' ? browser : await launch({ engine: 'chromium' });
      const session = await visitors.newSession();
      await session.tab.goto(url);
      return session;
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

/**
 * A console page that loads the script-tag build, records every event, and points it at the service.
 * `expose`: names of functions the test gave `env.expose`, defined in the page.
 */
export function consolePage(env, { body = '', credentials, expose = [] } = {}) {
  return `<!doctype html><meta charset="utf-8"><title>e2e console</title>
    <script src="/dist/script/glance-agent.js"></script>
    <script>
      for (const name of ${JSON.stringify(expose)}) {
        window[name] = (...args) => fetch('/__expose/' + name, { method: 'POST', body: JSON.stringify(args) }).then((answer) => answer.json());
      }
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

/**
 * A session as Playwright's objects, for the reliability suite, which runs in Chromium only (its soaks
 * read Chromium's memory figures, and its hundreds of calls test the module, not the engine):
 * `{tab: Page, context: BrowserContext, problems, session}`.
 */
export async function chromiumOnly(opening) {
  const session = await opening;
  if (!session.context) throw new Error(`the reliability suite runs in Chromium only (ENGINE=${ENGINE})`);
  return { tab: session.tab.page, context: session.context, problems: session.problems, session };
}

/** Polls `read` in the page until it returns a truthy value (or `timeout` ms pass). */
export function until(tab, read, arg, timeout = 15000) {
  return tab.waitForFunction(read, arg, { timeout });
}

export const names = (events) => events.map((event) => `${event.name}:${event.data.service}`);
