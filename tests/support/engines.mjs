// One browser interface for every test that drives a page, whatever the engine: `ENGINE=chromium`
// (the default: Debian's Chromium through playwright-core), `firefox` (Firefox ESR through geckodriver)
// or `webkit` (WebKitGTK's MiniBrowser through WebKitWebDriver, under Xvfb). A test is written once
// against `Session` and `Tab` below and runs on each.
//
// What holds on every engine, because tests depend on it:
// - Running a script in a page (`evaluate`) is not a user gesture on Firefox and WebKit (WebDriver);
//   on Chromium it is (Playwright). A test that needs the popup blocker never evaluates before the
//   gesture-sensitive call has settled: it reads results with `waitForConsole`. Only `click` is a gesture.
// - Uncaught errors, unhandled rejections and console errors land in `session.problems`: Playwright's
//   events (Chromium), WebDriver BiDi's log (Firefox: the page's and the browser's own messages), or a
//   collector script that the local servers put first in every page they serve (WebKit: the page's own
//   errors and console calls only; what WebKit logs itself is not visible to a driver).
// - Requests are what the local servers saw (`session.requests()`), on every engine alike.
// - Every wait is bounded.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import WebSocket from 'ws';
import { CHROMIUM_ARGS, watchProblems } from './local.mjs';

export const ENGINES = ['chromium', 'firefox', 'webkit'];
/** The engine under test. */
export const ENGINE = process.env.ENGINE || 'chromium';
if (!ENGINES.includes(ENGINE)) throw new Error(`ENGINE=${ENGINE}: one of ${ENGINES.join(', ')}`);


const FIREFOX = '/usr/bin/firefox-esr';
const GECKODRIVER = join(process.env.CARGO_HOME || join(homedir(), '.cargo'), 'bin/geckodriver');
const MINIBROWSER = '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';

/** Firefox prefs: the popup blocker as asked, and none of the services that reach for the network. */
const firefoxPrefs = (popupBlocking) => ({
  'dom.disable_open_during_load': popupBlocking,
  'browser.shell.checkDefaultBrowser': false,
  'datareporting.policy.dataSubmissionEnabled': false,
  'toolkit.telemetry.enabled': false,
  'network.captive-portal-service.enabled': false,
  'network.connectivity-service.enabled': false,
  'services.settings.server': 'http://127.0.0.1:9/',
  'messaging-system.rsexperimentloader.enabled': false,
  'app.normandy.enabled': false,
  'extensions.getAddons.cache.enabled': false,
  'browser.safebrowsing.update.enabled': false,
});

/**
 * Test options that skip a test on the engines named in `reasons` (`{webkit: 'why'}`), with the
 * engine and the reason in the output; `{}` elsewhere.
 */
export function unsupported(reasons) {
  return reasons[ENGINE] ? { skip: `${ENGINE}: ${reasons[ENGINE]}` } : {};
}

/**
 * Whether a page problem is a message the browser logs by itself, as an error of the page, about a
 * request that failed in the network: Chromium's "Failed to load resource: …" (an HTTP error status,
 * a refused connection) and "WebSocket connection to 'ws://…' failed: …"; Firefox's "Cross-Origin
 * Request Blocked: … (Reason: CORS request did not succeed)" (a cross-origin request that got no
 * answer) and "Firefox can’t establish a connection to the server at ws://…" (a refused WebSocket).
 * WebKit's own messages are not visible to its driver. The library cannot prevent them: a request it
 * made failed, and it reports that in its own way.
 */
export const isNetworkMessage = (problem) =>
  /Failed to load resource|^console: WebSocket connection to '[^']*' failed|Cross-Origin Request Blocked|can’t establish a connection to the server/
    .test(problem);

/** Waits until `check()` is truthy (polled), or throws `what` after `timeout` ms. */
export async function poll(check, { timeout = 15000, interval = 50, what = 'a condition' } = {}) {
  const started = Date.now();
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() - started > timeout) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await sleep(interval);
  }
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A promise that rejects after `ms` unless `promise` settles first. */
function bounded(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms); });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// ---------------------------------------------------------------------------------------------------
// The collector for WebKit: the local servers put `<script src="/__harness/collector.js">` first in
// every page they serve (see `withCollector`).

/** The collector's path on a console origin. */
export const COLLECTOR_PATH = '/__harness/collector.js';

/** Records the page's uncaught errors, unhandled rejections, CSP violations and console calls. */
export const COLLECTOR = `(() => {
  if (window.__harness) return;
  const record = { problems: [], console: [] };
  Object.defineProperty(window, '__harness', { value: record });
  const text = (args) => args.map((arg) => {
    if (typeof arg === 'string') return arg;
    if (arg instanceof Error) return arg.message;
    try { return JSON.stringify(arg); } catch { return String(arg); }
  }).join(' ');
  for (const level of ['log', 'info', 'warn', 'error', 'debug']) {
    const original = console[level];
    console[level] = function (...args) {
      record.console.push(text(args));
      if (level === 'error') record.problems.push('console: ' + text(args));
      return original.apply(this, args);
    };
  }
  addEventListener('error', (event) => record.problems.push('pageerror: ' + (event.error ? event.error.message : event.message)));
  addEventListener('unhandledrejection', (event) =>
    record.problems.push('pageerror: ' + (event.reason && event.reason.message !== undefined ? event.reason.message : String(event.reason))));
  addEventListener('securitypolicyviolation', (event) =>
    record.problems.push('console: Content-Security-Policy ' + event.violatedDirective + ' blocked ' + event.blockedURI));
})();`;

/** `html` with the collector as its first script, on the engines that need it (after any doctype). */
export function withCollector(html) {
  if (ENGINE !== 'webkit') return html;
  const tag = `<script src="${COLLECTOR_PATH}"></script>`;
  const text = String(html);
  const doctype = text.match(/^\s*<!doctype[^>]*>/i);
  return doctype ? doctype[0] + tag + text.slice(doctype[0].length) : tag + text;
}

// ---------------------------------------------------------------------------------------------------
// Browsers

/**
 * The engine's browser. `popupBlocking`: the engine's own popup blocker on (a window may open only
 * inside a user gesture) or off. `args`: Chromium flags (the memory figures' flags); ignored elsewhere.
 * `requests()` is how sessions read what the local servers saw: `() => Promise<{mark, list(mark)}>`.
 */
export async function launch({ popupBlocking = false, args = [], engine = ENGINE } = {}) {
  if (engine === 'chromium') {
    // Playwright turns popup blocking off; a test of popupblocked needs Chromium's own blocker.
    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: [...CHROMIUM_ARGS, ...args],
      ignoreDefaultArgs: popupBlocking ? ['--disable-popup-blocking'] : [] });
    return {
      engine,
      newSession: async (options) => (await chromiumSession(await browser.newContext(
        { viewport: { width: 1280, height: 800 } }))).attach(options),
      close: () => browser.close(),
    };
  }
  // A browser takes a second or two to start: from the second session on (a file that opens one
  // session wastes none), the next session's browser starts while the test uses this one.
  const sessions = new Set();
  let spare = null;
  let handedOut = 0;
  const prepare = () => {
    const starting = webdriverSession(engine, popupBlocking).then((session) => {
      sessions.add(session);
      session.onClose = () => sessions.delete(session);
      return session;
    });
    starting.catch(() => {});
    return starting;
  };
  return {
    engine,
    async newSession(options) {
      const session = await (spare ?? prepare());
      handedOut += 1;
      spare = handedOut >= 2 ? prepare() : null;
      return session.attach(options);
    },
    async close() {
      const last = spare;
      spare = null;
      await last?.then((session) => session.close(), () => {});
      await Promise.all([...sessions].map((session) => session.close().catch(() => {})));
    },
  };
}

/**
 * What every session offers:
 * - `tab`: the session's first tab;
 * - `problems`: uncaught errors and console errors (`pageerror: …`, `console: …`) of its pages;
 * - `consoleMessages`: the text of every console message of its pages;
 * - `waitForWindow()`: the next window any of its pages opens, as a Tab (call it before the action);
 * - `newTab()`: a second tab of the same browser, blank, as a user would open one (no opener);
 * - `windowCount()`; `requests()`: what the local servers received since the session was handed out;
 * - `close()`.
 * `attach({requests})` hands it out: `requests` is `{mark(), since(mark)}` from the harness, where the
 * servers' records are read.
 */
function sessionBase() {
  let recorder = null;
  let mark = null;
  return {
    problems: [],
    consoleMessages: [],
    attach(options = {}) {
      recorder = options.requests || null;
      mark = recorder ? recorder.mark() : null;
      return this;
    },
    async requests() {
      return recorder ? recorder.since(await mark) : [];
    },
  };
}

function chromiumSession(context) {
  const session = sessionBase();
  const watch = (page) => {
    watchProblems(page, session.problems);
    page.on('console', (message) => session.consoleMessages.push(message.text()));
  };
  context.on('page', watch);
  const tabs = new WeakMap();
  const tabOf = (page) => {
    if (!tabs.has(page)) tabs.set(page, chromiumTab(page, session));
    return tabs.get(page);
  };
  const opened = new Set();
  return Object.assign(session, {
    context,
    async start() {
      const page = await context.newPage();
      opened.add(page);
      session.tab = tabOf(page);
      return session;
    },
    async waitForWindow({ timeout = 15000 } = {}) {
      const page = await context.waitForEvent('page', { predicate: (candidate) => !opened.has(candidate), timeout });
      opened.add(page);
      return tabOf(page);
    },
    async newTab() {
      const page = await context.newPage();
      opened.add(page);
      return tabOf(page);
    },
    async windowCount() { return context.pages().length; },
    async close() { await context.close(); },
  }).start();
}

function chromiumTab(page, session) {
  const element = (selector) => page.locator(selector).first();
  return {
    page,
    session,
    goto: async (url) => { await page.goto(url); },
    reload: async () => { await page.reload(); },
    evaluate: (fn, arg) => page.evaluate(fn, arg),
    waitForFunction: async (fn, arg, { timeout = 15000 } = {}) =>
      (await page.waitForFunction(fn, arg, { timeout, polling: 50 })).jsonValue(),
    click: (selector) => page.click(selector),
    fill: (selector, value) => page.fill(selector, value),
    check: (selector) => page.check(selector),
    dispatch: (selector, type) => element(selector).dispatchEvent(type),
    text: (selector) => element(selector).textContent(),
    waitFor: (selector, { hasText, timeout = 15000 } = {}) =>
      (hasText ? page.locator(selector).filter({ hasText }) : page.locator(selector)).first().waitFor({ timeout }),
    visible: (selector) => element(selector).isVisible(),
    count: (selector) => page.locator(selector).count(),
    attribute: (selector, name) => element(selector).getAttribute(name),
    value: (selector) => element(selector).inputValue(),
    disabled: (selector) => element(selector).isDisabled(),
    frameText: (frame, selector) => page.frameLocator(frame).locator(selector).textContent(),
    title: () => page.title(),
    url: async () => page.url(),
    sleep: (ms) => page.waitForTimeout(ms),
    screenshot: (path) => page.screenshot({ path }),
    waitForConsole: (prefix, { timeout = 30000 } = {}) =>
      poll(() => session.consoleMessages.find((text) => text.startsWith(prefix)), { timeout, what: `console "${prefix}…"` }),
    isClosed: async () => page.isClosed(),
    closed: ({ timeout = 15000 } = {}) => (page.isClosed() ? Promise.resolve() : page.waitForEvent('close', { timeout })),
    close: () => page.close(),
  };
}

// ---------------------------------------------------------------------------------------------------
// WebDriver (Firefox, WebKit): one driver process and one browser per session, so that sessions are
// isolated as browser contexts are, and every window of the browser is the session's.

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** A driver process on a free port, once it answers `/status`. */
async function startDriver(engine) {
  const port = await freePort();
  const [command, args] = engine === 'firefox'
    ? [GECKODRIVER, [`--port=${port}`, '--websocket-port=0', '--log=fatal']]
    : ['WebKitWebDriver', [`--port=${port}`]];
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let output = '';
  child.stderr.on('data', (chunk) => { output = (output + chunk).slice(-2000); });
  const exited = new Promise((_, reject) => child.on('exit', (code) => reject(new Error(`${command} exited (${code}): ${output}`))));
  exited.catch(() => {});
  const base = `http://127.0.0.1:${port}`;
  await Promise.race([exited, poll(async () => {
    try { return (await fetch(`${base}/status`)).ok; } catch { return false; }
  }, { timeout: 15000, interval: 25, what: `${command} to start` })]);
  return { child, base };
}

/** One WebDriver command; the answer's `value`, or an Error with the driver's error and message. */
async function command(base, method, path, body) {
  const response = await fetch(base + path, {
    method, headers: { 'Content-Type': 'application/json; charset=utf-8' },
    body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(150000),
  });
  const answer = await response.json();
  if (!response.ok) {
    const error = new Error(`${method} ${path}: ${answer.value?.error}: ${answer.value?.message}`);
    error.webdriver = answer.value?.error;
    throw error;
  }
  return answer.value;
}

/** How `undefined` travels in the JSON of a result, so that it comes back as Playwright gives it. */
const UNDEFINED = '\u0000undefined';
/**
 * The script that runs `fn(arg)` in the current browsing context (the function's source is part of
 * the script, which the driver compiles: no eval, so a page's CSP or Trusted Types do not refuse it);
 * its result comes back as JSON text. A result that is not JSON (a window) is an error.
 */
const evaluateScript = (fn) => `const done = arguments[arguments.length - 1];
  const fn = (${typeof fn === 'function' ? fn.toString() : `() => (${fn})`});
  Promise.resolve().then(() => fn(arguments[0]))
    .then((value) => ({ ok: true, json: JSON.stringify(value, (key, item) => (item === undefined ? ${JSON.stringify(UNDEFINED)} : item)) }))
    .then(done, (error) => done({ ok: false, error: String(error && error.stack || error) }));`;

/** A result's JSON as the value it was in the page, `undefined` included. */
function decode(json) {
  const restore = (value) => {
    if (value === UNDEFINED) return undefined;
    if (value && typeof value === 'object') for (const key of Object.keys(value)) value[key] = restore(value[key]);
    return value;
  };
  return restore(JSON.parse(json));
}
const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';

async function webdriverSession(engine, popupBlocking) {
  const session = sessionBase();
  const { child, base } = await startDriver(engine);
  const capabilities = engine === 'firefox'
    ? { browserName: 'firefox', webSocketUrl: true, 'moz:firefoxOptions': { binary: FIREFOX, args: ['-headless'], prefs: firefoxPrefs(popupBlocking) } }
    : { 'webkitgtk:browserOptions': { binary: MINIBROWSER,
      args: ['--automation', ...(popupBlocking ? [] : ['--javascript-can-open-windows-automatically=true'])] } };
  let created;
  try {
    created = await bounded(command(base, 'POST', '/session', { capabilities: { alwaysMatch: capabilities } }), 60000, `${engine} session`);
  } catch (error) {
    child.kill();
    throw error;
  }
  const id = created.sessionId;
  const url = `/session/${id}`;
  await command(base, 'POST', `${url}/timeouts`, { script: 120000, pageLoad: 30000, implicit: 0 });

  // Commands run one at a time, each in the window it names (WebDriver has one current window).
  let queue = Promise.resolve();
  let current = await command(base, 'GET', `${url}/window`);
  let ended = false;
  const send = (path, method = 'POST', body = {}) =>
    command(base, method, url + path, method === 'GET' || method === 'DELETE' ? undefined : body);
  /** Runs `steps(send)` in window `handle` (or the current one), no other command in between. */
  function inWindow(handle, steps) {
    const step = queue.then(async () => {
      if (ended) throw new Error(`${engine} session closed`);
      if (handle && handle !== current) {
        await send('/window', 'POST', { handle });
        current = handle;
      }
      return steps(send);
    });
    queue = step.catch(() => {});
    return step;
  }
  const run = (handle, path, method, body) => inWindow(handle, (send) => send(path, method, body));
  run.inWindow = inWindow;

  // Firefox: the page's and the browser's own console messages and errors, over WebDriver BiDi.
  let bidi;
  if (engine === 'firefox' && created.capabilities.webSocketUrl) {
    bidi = new WebSocket(created.capabilities.webSocketUrl);
    await bounded(new Promise((resolve, reject) => { bidi.once('open', resolve); bidi.once('error', reject); }), 10000, 'BiDi');
    bidi.on('message', (data) => {
      const message = JSON.parse(String(data));
      if (message.method !== 'log.entryAdded') return;
      const { type, level, text } = message.params;
      if (type === 'console') session.consoleMessages.push(text);
      if (level === 'error') session.problems.push(`${type === 'console' ? 'console' : 'pageerror'}: ${text}`);
    });
    bidi.on('error', () => {});
    const subscribed = new Promise((resolve) => bidi.on('message', (data) => { if (JSON.parse(String(data)).id === 1) resolve(); }));
    bidi.send(JSON.stringify({ id: 1, method: 'session.subscribe', params: { events: ['log.entryAdded'] } }));
    await bounded(subscribed, 10000, 'BiDi subscribe');
  }

  const tabs = new Map();
  const seen = new Set([current]);
  const tabOf = (handle) => {
    if (!tabs.has(handle)) tabs.set(handle, webdriverTab(handle, session, run, engine));
    return tabs.get(handle);
  };
  const handles = () => run(null, '/window/handles', 'GET');

  /** WebKit: what the collector of each open page recorded, moved into the session. */
  async function collect(handle) {
    if (engine !== 'webkit') return;
    const taken = await run(handle, '/execute/sync', 'POST', { script: `const record = window.__harness;
      if (!record) return null;
      const taken = { problems: record.problems.splice(0), console: record.console.splice(0) };
      return taken;`, args: [] }).catch(() => null);
    if (taken) {
      session.problems.push(...taken.problems);
      session.consoleMessages.push(...taken.console);
    }
  }
  session.collect = collect;

  return Object.assign(session, {
    engine,
    tab: tabOf(current),
    async waitForWindow({ timeout = 15000 } = {}) {
      const handle = await poll(async () => (await handles()).find((candidate) => !seen.has(candidate)),
        { timeout, what: 'a new window' });
      seen.add(handle);
      return tabOf(handle);
    },
    async newTab() {
      // From a window still open: the current one may be a tab the test has closed.
      const [open] = await handles();
      const { handle } = await run(open, '/window/new', 'POST', { type: 'tab' });
      seen.add(handle);
      return tabOf(handle);
    },
    async windowCount() { return (await handles()).length; },
    async isOpen(handle) { return (await handles()).includes(handle); },
    async close() {
      if (ended) return;
      try {
        for (const handle of await handles().catch(() => [])) await collect(handle);
        ended = true;
        await bounded(command(base, 'DELETE', url), 20000, 'closing the session').catch(() => {});
      } finally {
        ended = true;
        bidi?.terminate();
        child.kill();
        session.onClose?.();
      }
    },
  });
}

function webdriverTab(handle, session, run, engine) {
  const exec = async (fn, arg) => {
    const result = await run(handle, '/execute/async', 'POST', { script: evaluateScript(fn), args: [arg === undefined ? null : arg] });
    if (!result) {
      // Firefox answers null when the document went away during the script (the window navigated).
      const error = new Error('the page navigated while a script ran in it');
      error.navigated = true;
      throw error;
    }
    if (!result.ok) throw new Error(`evaluate failed in the page: ${result.error}`);
    return decode(result.json);
  };
  const find = async (selector, { timeout = 15000 } = {}) => {
    const found = await poll(async () => {
      try {
        return await run(handle, '/element', 'POST', { using: 'css selector', value: selector });
      } catch (error) {
        if (error.webdriver === 'no such element') return null;
        throw error;
      }
    }, { timeout, what: selector });
    return found[ELEMENT];
  };
  const inPage = (body) => (selector) => exec(new Function('selector', body), selector);
  /** `exec` for a wait: a page that navigated meanwhile is asked again at the next poll. */
  const probe = (fn, arg) => exec(fn, arg).catch((error) => {
    if (error.navigated) return null;
    throw error;
  });
  const tab = {
    handle,
    session,
    goto: async (url) => {
      await session.collect?.(handle);
      await run(handle, '/url', 'POST', { url });
    },
    reload: async () => {
      await session.collect?.(handle);
      await run(handle, '/refresh', 'POST', {});
    },
    evaluate: exec,
    waitForFunction: (fn, arg, { timeout = 15000 } = {}) =>
      poll(() => probe(fn, arg), { timeout, what: `${String(fn).slice(0, 80)} in the page` }),
    // A real click through the driver: a user gesture, as the agent's would be.
    click: async (selector) => { await run(handle, `/element/${await find(selector)}/click`); },
    fill: async (selector, value) => {
      const element = await find(selector);
      await run(handle, `/element/${element}/clear`);
      await run(handle, `/element/${element}/value`, 'POST', { text: value });
    },
    check: async (selector) => {
      const element = await find(selector);
      if (!(await run(handle, `/element/${element}/selected`, 'GET'))) await run(handle, `/element/${element}/click`);
    },
    dispatch: (selector, type) => exec(([s, t]) => { document.querySelector(s).dispatchEvent(new Event(t, { bubbles: true })); }, [selector, type]),
    text: async (selector) => { await find(selector); return inPage('return document.querySelector(selector).textContent')(selector); },
    waitFor: (selector, { hasText, timeout = 15000 } = {}) => poll(() => probe(([s, t]) => [...document.querySelectorAll(s)].some((element) =>
      (t === null || element.textContent.includes(t)) && element.getClientRects().length > 0), [selector, hasText ?? null]),
    { timeout, what: selector }),
    visible: inPage('const element = document.querySelector(selector); return !!element && element.getClientRects().length > 0 && getComputedStyle(element).visibility !== "hidden"'),
    count: inPage('return document.querySelectorAll(selector).length'),
    attribute: async (selector, name) => exec(([s, n]) => document.querySelector(s).getAttribute(n), [selector, name]),
    value: async (selector) => { await find(selector); return inPage('return document.querySelector(selector).value')(selector); },
    disabled: inPage('return document.querySelector(selector).disabled'),
    frameText: async (frame, selector) => {
      const element = await find(frame);
      // Into the frame and out again in one step, until the frame's document has the element.
      return poll(() => run.inWindow(handle, async (send) => {
        await send('/frame', 'POST', { id: { [ELEMENT]: element } });
        try {
          return await send('/execute/sync', 'POST', { script: 'const e = document.querySelector(arguments[0]); return e && e.textContent', args: [selector] });
        } finally {
          await send('/frame/parent', 'POST', {});
        }
      }), { what: `${selector} in ${frame}` });
    },
    title: () => run(handle, '/title', 'GET'),
    url: () => run(handle, '/url', 'GET'),
    sleep,
    screenshot: async (path) => writeFileSync(path, Buffer.from(await run(handle, '/screenshot', 'GET'), 'base64')),
    waitForConsole: (prefix, { timeout = 30000 } = {}) => poll(async () => {
      await session.collect?.(handle);
      return session.consoleMessages.find((text) => text.startsWith(prefix));
    }, { timeout, what: `console "${prefix}…" (${engine})` }),
    isClosed: async () => !(await session.isOpen(handle)),
    closed: ({ timeout = 15000 } = {}) => poll(async () => !(await session.isOpen(handle)), { timeout, what: 'the window to close' }),
    close: async () => {
      await session.collect?.(handle);
      await run(handle, '/window', 'DELETE');
    },
  };
  return tab;
}
