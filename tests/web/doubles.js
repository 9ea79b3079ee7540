// Test doubles for the browser boundary: a scripted Glance service behind `fetch`, a `window.open`
// that hands out same-origin windows (or nothing, like a popup blocker), fast timers, and a listener
// that records events. Each double returns an object whose `restore()` puts the real API back.

const realFetch = globalThis.fetch;
const realOpen = globalThis.open;
const realSetTimeout = globalThis.setTimeout;
const realSetInterval = globalThis.setInterval;
const realConsoleError = console.error;

const FOUND = `<?xml version="1.0" encoding="utf-8"?>
<SessionInfo xmlns="http://www.glance.net/">
  <id>77</id><ssnid>20541.4400.1</ssnid><serverip>10.0.0.1</serverip><servername>ew10</servername>
  <personid>9</personid><groupid>20541</groupid><passcode>4400</passcode>
  <agentjoinurl>http://glance.test/agentjoin/AgentView.aspx?SessionKey=4400&amp;ssnid=20541.4400.1</agentjoinurl>
  <clientjoinurl>http://glance.test/client</clientjoinurl><calltype>C</calltype><visitorversion>6.25</visitorversion>
</SessionInfo>`;
const NOT_FOUND = '<?xml version="1.0"?><SessionInfo xmlns="http://www.glance.net/"><id>0</id></SessionInfo>';
const REFUSED = '<?xml version="1.0"?><Error>Invalid login key</Error>';

/** Lookup answers: a running session, none yet, and an error document. */
export const answers = () => ({ found: FOUND, notFound: NOT_FOUND, refused: REFUSED });

/**
 * Replaces `fetch`. `steps` are taken in order (the last one repeats): `{status, body}`, `{fail: message}`
 * (a network error), or `{hang: true}` (never answers, but honours the abort signal).
 */
export function fakeService(steps) {
  const calls = [];
  globalThis.fetch = (url, init) => {
    // Only the fake webserver's requests; the page's own (the module reads its opener policy) go through.
    if (!String(url).startsWith('http://glance.test/')) return realFetch(url, init);
    const step = steps.length > 1 ? steps.shift() : steps[0];
    const signal = init && init.signal;
    const headers = new Headers(init && init.headers);
    calls.push({ url: String(url), method: init && init.method, body: init && init.body,
      contentType: headers.get('Content-Type'), authorization: headers.get('Authorization'), signal });
    if (step.fail) return Promise.reject(new TypeError(step.fail));
    if (step.hang) {
      return new Promise((_, reject) => {
        if (signal) signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
      });
    }
    return Promise.resolve(new Response(step.body, { status: step.status || 200 }));
  };
  return { calls, restore() { globalThis.fetch = realFetch; } };
}

/** Makes timers `factor` times faster, recording the delays asked for (intervals excluded). */
export function fastTimers(factor) {
  const delays = [];
  globalThis.setTimeout = (f, ms, ...args) => { delays.push(ms); return realSetTimeout(f, ms / factor, ...args); };
  globalThis.setInterval = (f, ms, ...args) => realSetInterval(f, ms / factor, ...args);
  return { delays, restore() { globalThis.setTimeout = realSetTimeout; globalThis.setInterval = realSetInterval; } };
}

/**
 * Replaces `window.open`. `blocked`: returns null. Otherwise each call returns the window of a new
 * same-origin iframe, and form submissions in it are recorded instead of navigating.
 */
export function fakeOpen(blocked) {
  const calls = [];
  const submissions = [];
  const frames = [];
  globalThis.open = (url, name, features) => {
    calls.push({ url, name, features });
    if (blocked) return null;
    const frame = document.createElement('iframe');
    document.body.appendChild(frame);
    frames.push(frame);
    const win = frame.contentWindow;
    win.HTMLFormElement.prototype.submit = function () { submissions.push(describeForm(this)); };
    return win;
  };
  // Forms our document submits (into a named window or an iframe) are recorded too.
  const realSubmit = HTMLFormElement.prototype.submit;
  HTMLFormElement.prototype.submit = function () { submissions.push(describeForm(this)); };
  return {
    calls, submissions, frames,
    restore() {
      globalThis.open = realOpen;
      HTMLFormElement.prototype.submit = realSubmit;
      for (const frame of frames) frame.remove();
    },
  };
}

function describeForm(form) {
  const fields = {};
  for (const input of form.querySelectorAll('input')) fields[input.name] = input.value;
  return { method: form.getAttribute('method'), action: form.getAttribute('action'),
    target: form.getAttribute('target'), fields, inPage: form.ownerDocument === document };
}

/** Records `console.error` calls without printing them. */
export function quietConsole() {
  const errors = [];
  console.error = (...args) => errors.push(args.map(String).join(' '));
  return { errors, restore() { console.error = realConsoleError; } };
}

/** A listener that records `[name, data]`; `names()` lists the names. */
export function recorder() {
  const events = [];
  return {
    events,
    handler(name, data) { events.push([name, data]); },
    names() { return events.map(([name]) => name); },
    data(name) { const hit = events.find(([n]) => n === name); return hit && hit[1]; },
  };
}

export function sleep(ms) {
  return new Promise((resolve) => realSetTimeout(resolve, ms));
}

/** Settles `promise` into `{ok, value}` / `{ok: false, error}`, failing if it takes over `ms`. */
export function settle(promise, ms) {
  return Promise.race([
    Promise.resolve(promise).then((value) => ({ ok: true, value }), (error) => ({ ok: false, error })),
    new Promise((resolve) => realSetTimeout(() => resolve({ ok: false, error: new Error('did not settle'), hung: true }), ms)),
  ]);
}

/** Whether a promise is still pending after a macrotask. */
export async function isPending(promise) {
  let done = false;
  Promise.resolve(promise).then(() => { done = true; }, () => { done = true; });
  await sleep(0);
  return !done;
}

export function postMessageEvent(data, origin, source) {
  window.dispatchEvent(new MessageEvent('message', { data, origin, source }));
}

/** A handler that throws. */
export function thrower() {
  return () => { throw new Error('listener failure'); };
}

/** A handler that runs `f` once, on its first call. */
export function once(f) {
  let done = false;
  return (name, data) => { if (!done) { done = true; f(name, data); } };
}

/** Every hostile value the API must refuse without trapping. */
export function hostileValues() {
  const throwing = new Proxy({}, {
    get() { throw new Error('trap: get'); }, has() { throw new Error('trap: has'); },
    getPrototypeOf() { throw new Error('trap: proto'); }, ownKeys() { throw new Error('trap: keys'); },
  });
  const getters = {
    get loginkey() { throw new Error('getter'); }, get partnerid() { throw new Error('getter'); },
    get windowName() { throw new Error('getter'); }, get iframe() { throw new Error('getter'); },
  };
  const protoKeyed = JSON.parse('{"__proto__": {"loginkey": "x"}, "constructor": {"prototype": {}}}');
  return [
    undefined, null, true, false, 0, -1, 1.5, NaN, Infinity, -Infinity, 1e300, 10n, Symbol('s'),
    '', ' ', '\u0000', 'x'.repeat(1 << 20), 'javascript:alert(1)', 'data:text/html,<b>x</b>',
    'JaVaScRiPt:alert(1)', ' javascript:alert(1)', 'https://user:pw@evil.example/', '\ud800',
    [], [1, 2], {}, Object.create(null), () => 1, function named() {}, new Date(), /re/, new Map(),
    throwing, getters, protoKeyed, document.body, window, new Error('e'), Promise.resolve(1),
  ];
}

export function expectedErrorShape(error) {
  return error instanceof Error && typeof error.code === 'string' && error.code.length > 0;
}

/**
 * A page's `getLoginKey`: each call takes the next of `keys` (the last repeats): credentials, or
 * `{fail: message}` to reject. `calls` counts the calls.
 */
export function keyServer(keys) {
  const server = {
    calls: 0,
    provide() {
      server.calls += 1;
      const key = keys.length > 1 ? keys.shift() : keys[0];
      return key.fail ? Promise.reject(new Error(key.fail)) : Promise.resolve(key);
    },
  };
  return server;
}

/** The names of `value`'s prototype's own members, and which of them are accessors. */
export function classMembers(cls) {
  // Every class has its own `length`, `name` and `prototype`; the members are the rest.
  const names = Object.getOwnPropertyNames(cls).filter((name) => !['length', 'name', 'prototype'].includes(name));
  const accessors = names.filter((name) => Object.getOwnPropertyDescriptor(cls, name).get);
  const writable = accessors.filter((name) => Object.getOwnPropertyDescriptor(cls, name).set);
  return { methods: names.filter((name) => !accessors.includes(name)), accessors, writable };
}

export function removeFrame(win) {
  for (const frame of document.querySelectorAll('iframe')) if (frame.contentWindow === win) frame.remove();
}
