// What the library does beyond the production script (issue 5), against the local service in
// the engine under test: the popup-proof join, per-call cancellation with an AbortSignal, listener disposers and
// `once`, one viewer per session, the agent's viewer parameters, inSession and diagnose.
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { consolePage, names, poll, start, until } from './harness.mjs';

let env;
let blocking;
let credentials;
before(async () => {
  env = await start();
  blocking = await start({ popupBlocking: true });
  credentials = await env.credentials();
});
beforeEach(() => env.faults({ lookup: 'none' }));
after(async () => {
  await env?.stop();
  await blocking?.stop();
});

test('popup-proof join: the window opens inside the click, waits, then shows the viewer; no popupblocked', async () => {
  const allowed = await blocking.credentials();
  const url = blocking.page('click.html', consolePage(blocking, { credentials: allowed, body: `
    <button id="join">Join</button>
    <script>
      document.getElementById('join').addEventListener('click', () => {
        outcome(GLANCE.Agent.joinSession('6001')).then((joined) => console.log('joined ' + JSON.stringify(joined)));
      });
    </script>` }));
  // Nothing may evaluate in the page before the join settles: Playwright's evaluate counts as a gesture.
  const session = await blocking.open();
  await session.tab.goto(url);
  const settled = session.tab.waitForConsole('joined ', { timeout: 30000 });
  const waiting = session.waitForWindow();
  await session.tab.click('#join');
  const viewer = await waiting;
  assert.match(await viewer.title(), /Waiting for the customer to start session 6001/);
  // The customer starts 4 s later: the lookup finds the session on a later attempt, long after the
  // click could have opened a window.
  await new Promise((resolve) => setTimeout(resolve, 4000));
  await blocking.startSession('6001');
  const joined = JSON.parse((await settled).slice('joined '.length));
  assert.deepEqual(joined, { ok: true, value: 'window' });
  await viewer.waitFor('#key');
  assert.equal(await viewer.text('#key'), '6001', 'the waiting window became the viewer');
  const heard = names(await session.tab.evaluate(() => events));
  assert.ok(!heard.includes('popupblocked:agent'), heard.join());
  assert.equal((await session.windowCount()), 2, 'one window for the viewer, no second one');
  await session.close();
  assert.deepEqual(session.problems, []);
});

test('the waiting window closes when the lookup is canceled or fails', async () => {
  const session = await env.open(env.page('cancel-wait.html', consolePage(env, { credentials })));
  let waiting = session.waitForWindow();
  await session.tab.evaluate(() => { window.joined = outcome(GLANCE.Agent.joinSession('6002')); });
  let placeholder = await waiting;
  assert.match(await placeholder.title(), /Waiting for the customer to start session 6002/);
  let closed = placeholder.closed();
  await session.tab.evaluate(() => GLANCE.Agent.cancelLookup());
  await closed;
  assert.equal((await session.tab.evaluate(() => window.joined)).code, 'canceled');

  // This window may live a few milliseconds, less than a WebDriver poll: the page's window.open tells.
  const failed = await session.tab.evaluate(async () => {
    const open = window.open;
    const opened = [];
    window.open = (...args) => { const made = open.apply(window, args); opened.push(made); return made; };
    const joined = await outcome(GLANCE.Agent.joinSession('6002', { wait: false }));
    window.open = open;
    return { code: joined.code, opened: opened.length, closed: opened.every((made) => made && made.closed) };
  });
  assert.deepEqual(failed, { code: 'not_found', opened: 1, closed: true });
  await poll(async () => (await session.windowCount()) === 1, { what: 'the closed window gone from the browser' });
  await session.close();
  assert.deepEqual(session.problems, []);
});

test('params.signal cancels a lookup or a join: canceled, lookupCanceled, the request aborted', async () => {
  await env.faults({ lookup: 'delay', delayMs: 5000 });
  const session = await env.open(env.page('signal.html', consolePage(env, { credentials })));
  const lookup = await session.tab.evaluate(async () => {
    const controller = new AbortController();
    const result = outcome(GLANCE.Agent.lookupSession('6004', { signal: controller.signal }));
    setTimeout(() => controller.abort(), 300);
    return result;
  });
  assert.equal(lookup.code, 'canceled');
  // The service saw the browser give up the request in flight (its answer was 5 s away).
  await poll(async () => (await session.requests()).some((request) => request.url.endsWith('/LookupPartnerSession2') && request.aborted),
    { timeout: 2000, what: 'the lookup request aborted' });

  const waiting = session.waitForWindow();
  await session.tab.evaluate(() => {
    const controller = new AbortController();
    window.joined = outcome(GLANCE.Agent.joinSession('6004', { signal: controller.signal }));
    setTimeout(() => controller.abort(), 300);
  });
  const placeholder = await waiting;
  await placeholder.closed();
  assert.equal((await session.tab.evaluate(() => window.joined)).code, 'canceled');
  const heard = names(await session.tab.evaluate(() => events));
  assert.deepEqual(heard.filter((name) => name.startsWith('lookupCanceled')), ['lookupCanceled:agent', 'lookupCanceled:agent']);
  await session.close();
  assert.deepEqual(session.problems, []);
});

test('an aborted signal rejects at once: no lookup, no window, no request; a bad signal is refused', async () => {
  await env.startSession('6005');
  const session = await env.open(env.page('aborted.html', consolePage(env, { credentials })));
  const before = (await session.requests()).length;
  const early = await session.tab.evaluate(async () => {
    const signal = AbortSignal.abort();
    return Promise.all([
      outcome(GLANCE.Agent.lookupSession('6005', { signal })),
      outcome(GLANCE.Agent.joinSession('6005', { signal })),
      outcome(GLANCE.Agent.openViewer('6005', { signal })),
      outcome(GLANCE.Agent.openAgentJoinURL('http://127.0.0.1:1/agentjoin/AgentView.aspx', { signal })),
      outcome(GLANCE.Agent.joinSession('6005', { signal: 'stop' })),
      outcome(GLANCE.Agent.lookupSession('6005', { get signal() { throw new Error('hostile getter'); } })),
    ]);
  });
  assert.deepEqual(early.map((result) => result.code),
    ['canceled', 'canceled', 'canceled', 'canceled', 'invalid_argument', 'invalid_argument']);
  assert.equal((await session.requests()).length, before, 'nothing was requested');
  assert.equal((await session.windowCount()), 1, 'no window opened');
  assert.deepEqual(names(await session.tab.evaluate(() => events)), []);
  // A signal that is never aborted does not disturb the call, and { wait: false } still means one look.
  const found = await session.tab.evaluate(() =>
    outcome(GLANCE.Agent.lookupSession('6005', { wait: false, signal: new AbortController().signal })));
  assert.equal(found.ok, true);
  await session.close();
  assert.deepEqual(session.problems, []);
});

test('disposers remove their listener; once() resolves the next event and can be given up', async () => {
  await env.startSession('6006');
  const session = await env.open(env.page('dispose.html', consolePage(env, { credentials })));
  const heard = await session.tab.evaluate(async () => {
    const log = [];
    const offNamed = GLANCE.Agent.addEventListener('lookupFound', (name) => log.push('named ' + name));
    const offAll = GLANCE.Agent.addEventListenerAll((name) => log.push('all ' + name));
    const next = GLANCE.Agent.once('lookupFound');
    const controller = new AbortController();
    const givenUp = outcome(GLANCE.Agent.once('viewerOpened', { signal: controller.signal }));
    controller.abort();
    await GLANCE.Agent.lookupSession('6006', false);
    const data = await next;
    offNamed();
    offAll();
    offAll(); // a second call does nothing
    await GLANCE.Agent.lookupSession('6006', false);
    return { log, calltype: data.calltype, givenUp: (await givenUp).code, disposer: typeof offNamed };
  });
  assert.deepEqual(heard, {
    log: ['all lookupWaiting', 'named lookupFound', 'all lookupFound'], calltype: 'C', givenUp: 'canceled', disposer: 'function',
  });
  await session.close();
  assert.deepEqual(session.problems, []);
});

test('a named viewer window: a second viewer of the same windowName loads into that window', async () => {
  await env.startSession('6010');
  await env.startSession('6011');
  const session = await env.open(env.page('window-name.html', consolePage(env, { credentials })));
  await session.tab.evaluate(async () => {
    window.named = await GLANCE.Agent.joinSession('6010', { windowName: 'glance-viewer' });
  });
  await until(session.tab, () => events.filter((e) => e.name === 'connecting').length === 1);
  const again = await session.tab.evaluate(async () => {
    const second = await GLANCE.Agent.joinSession('6011', { windowName: 'glance-viewer' });
    return second === window.named;
  });
  assert.equal(again, true, 'the same window, by its name');
  assert.equal(await session.windowCount(), 2, 'the console and the one named window');
  await until(session.tab, () => events.filter((e) => e.name === 'connecting').length === 2);
  const heard = await session.tab.evaluate(() => events.filter((e) => e.name === 'connecting').map((e) => e.data.ssnkey));
  assert.deepEqual(heard, ['6010', '6011'], 'the second viewer replaced the first in it');
  await session.close();
  assert.deepEqual(session.problems, []);
});

test('one viewer per session: a second join or openViewer focuses the open viewer; reuse: false opens another', async () => {
  await env.startSession('6007');
  const session = await env.open(env.page('reuse.html', consolePage(env, { credentials })));
  const same = await session.tab.evaluate(async () => {
    window.first = await GLANCE.Agent.joinSession('6007');
    const again = await GLANCE.Agent.joinSession('6007');
    const viewed = await GLANCE.Agent.openViewer('6007');
    return again === window.first && viewed === window.first;
  });
  assert.equal(same, true, 'the same window, focused');
  assert.equal((await session.windowCount()), 2, 'one viewer window');
  const other = await session.tab.evaluate(async () => (await GLANCE.Agent.joinSession('6007', { reuse: false })) !== window.first);
  assert.equal(other, true, 'a second viewer when asked for');
  assert.equal((await session.windowCount()), 3);
  const opened = names(await session.tab.evaluate(() => events)).filter((name) => name === 'viewerOpened:agent');
  assert.equal(opened.length, 2, 'a reused viewer is not opened again');
  // Once the agent closes it, the next join opens a fresh viewer.
  await session.tab.evaluate(() => window.first.close());
  await until(session.tab, () => events.some((event) => event.name === 'viewerClosed'));
  const fresh = await session.tab.evaluate(async () => (await GLANCE.Agent.joinSession('6007')) !== window.first);
  assert.equal(fresh, true);
  await session.close();
  assert.deepEqual(session.problems, []);
});

test("the agent's viewer parameters reach the viewer: wait, agentVideo, name, email, phone, by POST and by GET", async () => {
  await env.startSession('6008', 'V');
  const session = await env.open(env.page('params.html', consolePage(env, { credentials })));
  const isView = (request) => request.url.includes('/agentjoin/AgentView.aspx');
  const params = { wait: false, agentVideo: true, name: 'Jo Agent', email: 'jo@example.com', phone: '+1 555 0100' };
  const joined = await session.tab.evaluate((params) => outcome(GLANCE.Agent.joinSession('6008', params)), params);
  assert.equal(joined.ok, true, JSON.stringify(joined));
  await until(session.tab, () => events.some((event) => event.name === 'connecting'));
  const posted = new URLSearchParams((await session.requests()).find(isView).body);
  const expected = ['0', '1', 'Jo Agent', 'jo@example.com', '+1 555 0100'];
  assert.deepEqual(['WAIT', 'AGENTVIDEO', 'NAME', 'EMAIL', 'PHONE'].map((name) => posted.get(name)), expected);

  const opened = await session.tab.evaluate((params) => {
    GLANCE.Agent.postParametersToViewer = false;
    return outcome(GLANCE.Agent.openViewer('6008', { ...params, reuse: false }));
  }, params);
  assert.deepEqual(opened, { ok: true, value: 'window' });
  // The window is open; its page is requested a moment later.
  const loaded = await poll(async () => (await session.requests()).filter(isView).find((request) => request.method === 'GET'),
    { what: 'the viewer requested by GET' });
  const got = new URL(loaded.url);
  assert.deepEqual(['wait', 'agentVideo', 'name', 'email', 'phone'].map((name) => got.searchParams.get(name)), expected);
  const refused = await session.tab.evaluate(() => outcome(GLANCE.Agent.openViewer('6008', { name: 42 })));
  assert.equal(refused.code, 'invalid_argument');
  await session.close();
  assert.deepEqual(session.problems, []);
});

test('inSession: true for a session the agent is in, false otherwise, the list for no key; errors are coded', async () => {
  await env.startSession('6009');
  const session = await env.open(env.page('in-session.html', consolePage(env, { credentials })));
  const before = await session.tab.evaluate(() => outcome(GLANCE.Agent.inSession('6009')));
  assert.deepEqual(before, { ok: true, value: false }, 'not in it before joining');
  await session.tab.evaluate(() => GLANCE.Agent.joinSession('6009').then(() => true));
  await until(session.tab, () => events.some((event) => event.name === 'connecting'));
  const after = await session.tab.evaluate(() => Promise.all([
    outcome(GLANCE.Agent.inSession('6009')),
    outcome(GLANCE.Agent.inSession(6010)),
    GLANCE.Agent.inSession(),
  ]));
  assert.deepEqual(after.slice(0, 2), [{ ok: true, value: true }, { ok: true, value: false }]);
  // (Sessions that earlier tests joined may still list this agent.)
  const listed = after[2].find((found) => found.passcode === '6009');
  assert.deepEqual(Object.keys(listed), ['id', 'passcode', 'num', 'disambiguateId', 'servername']);
  assert.ok(after[2].every((found) => found.passcode !== '6010'));
  const [aborted, outsider, loggedOut] = await session.tab.evaluate(async (other) => {
    const signal = AbortSignal.abort();
    const results = [await outcome(GLANCE.Agent.inSession('6009', { signal }))];
    GLANCE.Agent.authenticate(other);
    results.push(await outcome(GLANCE.Agent.inSession('6009')));
    GLANCE.Agent.logout();
    results.push(await outcome(GLANCE.Agent.inSession('6009')));
    return results;
  }, { ...credentials, loginkey: credentials.loginkey.slice(0, -4) + 'AAAA' });
  assert.equal(aborted.code, 'canceled');
  assert.equal(outsider.code, 'service_error', 'a key the service refuses');
  assert.equal(loggedOut.code, 'not_authenticated');
  await session.close();
  assert.deepEqual(session.problems, []);
});

test('diagnose: webserver, credentials, popups only inside a gesture, COOP, and framing under the page CSP', async () => {
  const session = await env.open(env.page('diagnose.html', consolePage(env, { credentials, body: `
    <button id="diagnose">Diagnose</button>
    <script>
      // Read from the console: the call waits for the module, and Playwright's evaluate would be a
      // gesture by the time it runs.
      GLANCE.Agent.diagnose().then((report) => console.log('atLoad ' + JSON.stringify(report)));
      document.getElementById('diagnose').onclick = () => { window.inClick = GLANCE.Agent.diagnose(); };
    </script>` })));
  const atLoad = JSON.parse((await session.tab.waitForConsole('atLoad ')).slice('atLoad '.length));
  assert.equal(atLoad.ok, true, JSON.stringify(atLoad));
  assert.deepEqual(Object.keys(atLoad), ['webserver', 'credentials', 'popups', 'opener', 'framing', 'ok']);
  assert.deepEqual([atLoad.webserver.ok, atLoad.credentials.ok, atLoad.popups.ok, atLoad.opener.ok, atLoad.framing.ok],
    [true, true, null, true, true], 'a popup is not tried outside a gesture');
  assert.match(atLoad.credentials.detail, /expires in \d+ s/);
  // In a click, the popup is tried, and closed again.
  await session.tab.click('#diagnose');
  const inClick = await session.tab.evaluate(() => window.inClick);
  assert.equal(inClick.popups.ok, true, inClick.popups.detail);
  assert.equal((await session.windowCount()), 1, 'the trial popup is closed');
  const broken = await session.tab.evaluate(async () => {
    GLANCE.Agent.logout();
    GLANCE.Agent.webserver = 'http://127.0.0.1:9';
    return GLANCE.Agent.diagnose();
  });
  assert.deepEqual([broken.ok, broken.webserver.ok, broken.credentials.ok], [false, false, false]);
  assert.match(broken.webserver.detail, /cannot be reached/);
  assert.match(broken.credentials.detail, /not authenticated/);
  await session.close();

  const strict = await env.open(env.page('diagnose-csp.html', consolePage(env, { credentials }),
    { 'Content-Security-Policy': "frame-src 'self'", 'Cross-Origin-Opener-Policy': 'same-origin' }));
  const report = await strict.tab.evaluate(() => GLANCE.Agent.diagnose());
  assert.equal(report.framing.ok, false, report.framing.detail);
  assert.match(report.framing.detail, /frame-src/);
  assert.equal(report.opener.ok, false, 'COOP cuts the opener, even without cross-origin isolation');
  assert.equal(report.ok, false);
  await strict.close();
});
