// Presence against the local service's presence server, in the engine under test: the agent console
// watches a visitor (the visitor simulator's page, in Chromium, plays the visitor's browser) and
// starts a session with them in one click. Each production defect of PRESENCE.md section 8 that these
// flows reach is named where it is checked (D1 … D22).
import assert from 'node:assert/strict';
import net from 'node:net';
import { afterEach, test } from 'node:test';
import { consolePage, ENGINE, isNetworkMessage, names, twoServices, unsupported, until } from './harness.mjs';

const services = twoServices();
afterEach(async () => {
  for (const service of [services.env, services.blocking]) await service.api('/dev/presence', { resetCounts: true }).catch(() => {});
});

let visitors = 0;
/** A fresh visitor id: `tag` plus a number (ids may hold any character: D12). */
const visitorId = (tag = 'v') => `${tag}-${++visitors}`;

/** The visitor simulator on the site as `visitorid`, in a browser session of its own. */
async function visitorOnSite(service, visitorid, { connect = true } = {}) {
  const query = connect ? `?visitorid=${encodeURIComponent(visitorid)}` : '';
  const visitor = await service.visitor(`${service.webserver}/visitor${query}`);
  if (connect) await visitor.tab.waitFor('#presence-state[data-state="online"]');
  return visitor;
}

/** A console page for presence, signed in, recording every event (and their times). */
async function agentConsole(service, name, { body = '', credentials } = {}) {
  return service.open(service.page(name, consolePage(service, {
    credentials: credentials === undefined ? await service.credentials() : credentials, body })));
}

/** The hosts of the agent sockets `agent`'s pages opened, as the service saw them. */
const agentSockets = async (agent) => (await agent.requests())
  .filter((request) => request.websocket && new URL(request.url).pathname === '/agent').map((request) => request.url);

const presenceEvents = (tab) => tab.evaluate(() => events.filter((e) => e.data.service === 'presence'));
const counts = async (service) => (await service.api('/dev/presence')).counts;

test('connect: resolves with the visitor data when the visitor is on the site; live events carry service (D12, D17)', async () => {
  const visitorid = visitorId('on site & #1+');
  const visitor = await visitorOnSite(services.env, visitorid);
  const agent = await agentConsole(services.env, 'presence-connect.html');
  const started = Date.now();
  const connected = await agent.tab.evaluate((id) => outcome(GLANCE.Agent.presenceConnect(id)), visitorid);
  const took = Date.now() - started;
  assert.equal(connected.ok, true, JSON.stringify(connected));
  const data = await agent.tab.evaluate((id) => GLANCE.Agent.presenceConnect(id).then((d) => d), visitorid);
  assert.equal(data.service, 'presence');
  assert.equal(data.url, 'https://shop.example/cart', 'the page the visitor is on');
  assert.equal(data.visitorid, visitorid, 'the id went over the wire intact (D12)');
  assert.deepEqual(await agent.tab.evaluate(() => [GLANCE.Agent.presenceState, GLANCE.Agent.visitorConnected]),
    ['connected', true]);
  // The visitor moves on and hides the tab: the agent hears both.
  await visitor.tab.fill('#presence-url', 'https://shop.example/checkout');
  await visitor.tab.dispatch('#presence-url', 'change');
  await visitor.tab.click('#presence-visibility');
  await until(agent.tab, () => events.some((e) => e.name === 'presenceVisibility'));
  const heard = await presenceEvents(agent.tab);
  const page = heard.findLast((e) => e.name === 'presence');
  assert.equal(page.data.url, 'https://shop.example/checkout');
  assert.deepEqual(heard.find((e) => e.name === 'presenceVisibility').data, { visibility: 'hidden', service: 'presence' });
  assert.ok(heard.every((e) => e.data.service === 'presence'), 'every presence event says so (D15)');
  assert.ok(names(heard).includes('presenceAuthorized:presence'));
  const authorize = (await agent.requests()).find((request) => request.url.includes('/Authorize'));
  assert.ok(authorize.url.startsWith(`${services.env.webserver}/services/AuthorizationService.svc/rest/Authorize?`),
    'presence follows GLANCE.Agent.webserver (D17)');
  assert.ok(!authorize.url.includes('loginkey'), 'the login key goes in the body');
  const frames = (await counts(services.env)).connectFrames;
  assert.equal(frames.at(-1).visitorid, visitorid);
  assert.equal(frames.at(-1).version, '6.25.0');
  console.log(`# presence: connected to a visitor already on the site in ${took} ms`);
  await agent.close();
  await visitor.close();
  assert.deepEqual(agent.problems, []);
});

test('a visitor who arrives later: the agent waits (no socket to nowhere) and resolves when they come (D8)', async () => {
  const visitorid = visitorId('later');
  const agent = await agentConsole(services.env, 'presence-later.html');
  await agent.tab.evaluate((id) => { window.connected = outcome(GLANCE.Agent.presenceConnect(id)); }, visitorid);
  await agent.tab.sleep(1500);
  assert.equal(await agent.tab.evaluate(() => GLANCE.Agent.visitorConnected), false);
  assert.equal((await counts(services.env)).agentSockets, 0, 'no socket while the visitor is not on the site');
  assert.ok((await agent.requests()).every((request) => !request.url.includes('undefined')), 'no request to `undefined`');
  const arrived = Date.now();
  const visitor = await visitorOnSite(services.env, visitorid);
  const connected = await agent.tab.evaluate(() => window.connected);
  console.log(`# presence: a visitor arriving later is seen ${Date.now() - arrived} ms after they connect`);
  assert.equal(connected.ok, true, JSON.stringify(connected));
  await agent.close();
  await visitor.close();
});

test('presenceStartSession from a real click, popup blocker on: terms, Accept, the viewer opens in the window of the click', async () => {
  const visitorid = visitorId('accepts');
  const visitor = await visitorOnSite(services.blocking, visitorid);
  const agent = await agentConsole(services.blocking, 'presence-start.html', { body: `
    <button id="start">Start session</button>
    <script>
      document.getElementById('start').addEventListener('click', () => {
        window.clicked = performance.now();
        outcome(GLANCE.Agent.presenceStartSession()).then((started) => {
          window.viewerAt = performance.now();
          console.log('started ' + JSON.stringify(started));
        });
      });
    </script>` });
  await agent.tab.evaluate((id) => GLANCE.Agent.presenceConnect(id), visitorid);
  const popup = agent.waitForWindow();
  const settled = agent.tab.waitForConsole('started ', { timeout: 30000 });
  await agent.tab.click('#start');
  const viewer = await popup;
  assert.match(await viewer.title(), /Waiting for the customer to start session \d{6}/);
  await visitor.tab.waitFor('#terms[open]');
  const key = await visitor.tab.text('#terms-key');
  assert.match(key, /^\d{6}$/, 'a random six-digit key (D6)');
  await visitor.tab.click('#terms-accept');
  const started = JSON.parse((await settled).slice('started '.length));
  assert.deepEqual(started, { ok: true, value: 'window' });
  await viewer.waitFor('#key');
  assert.equal(await viewer.text('#key'), key, 'the viewer of the session the visitor started');
  const heard = await agent.tab.evaluate(() => events.map(({ name, data }) => ({ name, data })));
  const start = heard.find((e) => e.name === 'presenceSessionStart');
  assert.deepEqual(start.data, { ssnkey: key, service: 'presence' }, 'presenceSessionStart names the key (D15)');
  assert.deepEqual(heard.filter((e) => e.name === 'presenceOnTerms').map((e) => e.data.status), ['displayed', 'accepted']);
  assert.ok(!heard.some((e) => e.name === 'popupblocked'));
  assert.equal((await agent.windowCount()), 2, 'one window: the one opened in the click');
  const ms = await agent.tab.evaluate(() => Math.round(window.viewerAt - window.clicked));
  console.log(`# presence: click → viewer resolved in ${ms} ms (the visitor accepting included)`);
  await agent.close();
  await visitor.close();
  assert.deepEqual(agent.problems, []);
});

test('declined: rejects with declined at once, the waiting window closes, nothing hangs (D6)', async () => {
  const visitorid = visitorId('declines');
  const visitor = await visitorOnSite(services.env, visitorid);
  const agent = await agentConsole(services.env, 'presence-decline.html');
  await agent.tab.evaluate((id) => GLANCE.Agent.presenceConnect(id), visitorid);
  const popup = agent.waitForWindow();
  await agent.tab.evaluate(() => { window.started = outcome(GLANCE.Agent.presenceStartSession('4242')); });
  const waiting = await popup;
  const closed = waiting.closed();
  await visitor.tab.waitFor('#terms[open]');
  await visitor.tab.click('#terms-decline');
  const started = await agent.tab.evaluate(() => window.started);
  assert.equal(started.code, 'declined');
  await closed;
  const heard = names(await presenceEvents(agent.tab));
  assert.ok(!heard.includes('presenceSessionStart:presence'));
  await agent.close();
  await visitor.close();
  assert.deepEqual(agent.problems, []);
});

/** Waits (up to 5 s) for `check` to hold: what the service sees of a socket closing comes a moment later. */
async function eventually(check, what) {
  for (const started = Date.now(); Date.now() - started < 5000;) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.fail(what);
}

/** Sends raw text frames to every agent socket (a broken or hostile server). */
const rawFrames = (service, frames) => service.api('/dev/presence/frames', { frames });

/** An agent console connected to a visitor on the site. */
async function connected(service, name, tag, options) {
  const visitorid = visitorId(tag);
  const visitor = await visitorOnSite(service, visitorid);
  const agent = await agentConsole(service, name, options);
  const outcome = await agent.tab.evaluate((id) => outcome(GLANCE.Agent.presenceConnect(id)), visitorid);
  assert.equal(outcome.ok, true, JSON.stringify(outcome));
  return { visitorid, visitor, agent };
}

async function closeAll(...sessions) {
  for (const session of sessions) await session?.close();
}

test('the server drops the socket: reconnecting, then connected again with backoff, and events flow again (D10)', async () => {
  const { visitor, agent } = await connected(services.env, 'presence-drop.html', 'dropped');
  await agent.tab.evaluate(() => {
    window.states = [];
    GLANCE.Agent.addEventListener('presenceAuthorized', () => states.push('authorized'));
    setInterval(() => { if (states.at(-1) !== GLANCE.Agent.presenceState) states.push(GLANCE.Agent.presenceState); }, 10);
  });
  const dropped = Date.now();
  await services.env.api('/dev/presence', { dropSockets: true });
  await until(agent.tab, () => states.includes('reconnecting') && GLANCE.Agent.presenceState === 'connected');
  const took = Date.now() - dropped;
  console.log(`# presence: reconnected ${took} ms after the server dropped the socket`);
  assert.ok(took >= 450, 'the first reconnect waits out its backoff (0.5–1 s, with jitter)');
  assert.equal((await counts(services.env)).agentSockets, 1, 'one socket, the new one');
  await visitor.tab.fill('#presence-url', 'https://shop.example/after-the-drop');
  await visitor.tab.dispatch('#presence-url', 'change');
  await until(agent.tab, () => events.some((e) => e.name === 'presence' && e.data.url.endsWith('/after-the-drop')));
  await closeAll(agent, visitor);
  assert.deepEqual(agent.problems, []);
});

test('presenceDisconnect (load-balanced too): the socket closes for good, no reconnect, presenceDisconnected (D5, D9)', async () => {
  await services.env.api('/dev/presence', { loadBalanced: true });
  const { visitor, agent } = await connected(services.env, 'presence-disconnect.html', 'disconnects');
  assert.equal((await counts(services.env)).agentSockets, 1);
  await agent.tab.evaluate(() => GLANCE.Agent.presenceDisconnect());
  assert.deepEqual(await agent.tab.evaluate(() => [GLANCE.Agent.presenceState, GLANCE.Agent.visitorConnected]),
    ['idle', false]);
  await agent.tab.sleep(2500); // longer than any first reconnect
  const after = await counts(services.env);
  assert.equal(after.agentSockets, 0, 'the socket closed');
  assert.equal(after.connectFrames.length, 1, 'no reconnect');
  const heard = names(await presenceEvents(agent.tab));
  assert.equal(heard.filter((name) => name === 'presenceDisconnected:presence').length, 1);
  // The visitor keeps browsing: the agent hears nothing more.
  const before = (await presenceEvents(agent.tab)).length;
  await visitor.tab.click('#presence-visibility');
  await agent.tab.sleep(500);
  assert.equal((await presenceEvents(agent.tab)).length, before);
  await closeAll(agent, visitor);
  assert.deepEqual(agent.problems, []);
});

test('a second presenceConnect replaces the first: its socket closes and it is heard no more (D4)', async () => {
  const first = visitorId('first');
  const second = visitorId('second');
  const firstVisitor = await visitorOnSite(services.env, first);
  const secondVisitor = await visitorOnSite(services.env, second);
  const agent = await agentConsole(services.env, 'presence-second.html');
  await agent.tab.evaluate((id) => GLANCE.Agent.presenceConnect(id), first);
  const switched = await agent.tab.evaluate((id) => outcome(GLANCE.Agent.presenceConnect(id)), second);
  assert.equal(switched.ok, true);
  assert.equal(switched.value.visitorid, second);
  await eventually(async () => (await counts(services.env)).agentSockets === 1, 'the first socket was closed');
  await agent.tab.evaluate(() => { window.events.length = 0; });
  await firstVisitor.tab.fill('#presence-url', 'https://shop.example/first-moves');
  await firstVisitor.tab.dispatch('#presence-url', 'change');
  await secondVisitor.tab.fill('#presence-url', 'https://shop.example/second-moves');
  await secondVisitor.tab.dispatch('#presence-url', 'change');
  await until(agent.tab, () => events.some((e) => e.name === 'presence'));
  await agent.tab.sleep(300);
  const pages = (await presenceEvents(agent.tab)).filter((e) => e.name === 'presence').map((e) => e.data.url);
  assert.deepEqual(pages, ['https://shop.example/second-moves']);
  // A connect still waiting is settled when replaced.
  const waiting = visitorId('never');
  await agent.tab.evaluate((id) => { window.replaced = outcome(GLANCE.Agent.presenceConnect(id)); }, waiting);
  await agent.tab.evaluate((id) => GLANCE.Agent.presenceConnect(id), second);
  assert.equal((await agent.tab.evaluate(() => window.replaced)).code, 'canceled');
  await closeAll(agent, firstVisitor, secondVisitor);
  assert.deepEqual(agent.problems, []);
});

test('no credentials: rejects not_authenticated with presenceFailed, and nothing is sent (D2)', async () => {
  const agent = await agentConsole(services.env, 'presence-anonymous.html', { credentials: null });
  const sent = (await agent.requests()).length;
  const connected = await agent.tab.evaluate(() => outcome(GLANCE.Agent.presenceConnect('v-anonymous')));
  assert.deepEqual([connected.ok, connected.isError, connected.code], [false, true, 'not_authenticated']);
  assert.deepEqual(await presenceEvents(agent.tab),
    [{ name: 'presenceFailed', data: { reason: 'not_authenticated', service: 'presence' },
      at: (await presenceEvents(agent.tab))[0].at }]);
  await agent.tab.sleep(1500);
  assert.equal((await agent.requests()).length, sent, 'no request');
  assert.equal((await counts(services.env)).authorizations, 0);
  assert.equal((await counts(services.env)).connectFrames.length, 0, 'no socket');
  assert.equal(await agent.tab.evaluate(() => GLANCE.Agent.presenceState), 'idle');
  await closeAll(agent);
});

test('refused authorization: rejects authentication_failed with presenceFailed, and does not try again', async () => {
  await services.env.api('/dev/presence', { refuseAuthorization: true });
  const agent = await agentConsole(services.env, 'presence-refused.html');
  const connected = await agent.tab.evaluate(() => outcome(GLANCE.Agent.presenceConnect('v-refused')));
  assert.equal(connected.code, 'authentication_failed');
  assert.match(connected.message, /not found or invalid/, 'the service’s own words');
  const failed = (await presenceEvents(agent.tab)).find((e) => e.name === 'presenceFailed');
  // PRESENCE.md sections 1 and 6.1: consoles written for Glance switch on reason "authorization"; the
  // service's words are beside it, not in it.
  assert.deepEqual(Object.keys(failed.data).sort(), ['message', 'reason', 'service']);
  assert.equal(failed.data.reason, 'authorization');
  assert.equal(failed.data.service, 'presence');
  assert.match(failed.data.message, /^Partner User Id .* not found or invalid$/, 'the service’s message, as text');
  await agent.tab.sleep(2000);
  const authorizes = (await agent.requests()).filter((request) => request.url.includes('/Authorize'));
  assert.equal(authorizes.length, 1, 'a refused Authorize is final');
  assert.equal(await agent.tab.evaluate(() => GLANCE.Agent.presenceState), 'idle');
  await closeAll(agent);
});

test('a token the socket refuses is authorized once more, then the connection fails; no endless loop (D13)', async () => {
  await services.env.api('/dev/presence', { refuseSockets: 1 });
  const { visitor, agent } = await connected(services.env, 'presence-token-refused.html', 'refused-once');
  const once = await counts(services.env);
  assert.equal(once.authorizations, 2, 'a fresh token after the refusal');
  assert.notEqual(once.connectFrames[0].authorization, once.connectFrames[1].authorization);
  await closeAll(agent);

  await services.env.api('/dev/presence', { refuseSockets: 100, resetCounts: true });
  const again = await agentConsole(services.env, 'presence-token-refused-again.html');
  const refused = await again.tab.evaluate((id) => outcome(GLANCE.Agent.presenceConnect(id)), await visitorIdOf(visitor));
  assert.equal(refused.code, 'authentication_failed');
  await again.tab.sleep(2500);
  const after = await counts(services.env);
  assert.equal(after.connectFrames.length, 2, 'two sockets, one per token, then no more');
  assert.equal(after.authorizations, 2, 'one new token after the refusal, and no third');
  await closeAll(again, visitor);
});

/** The visitor id a simulator page connected with. */
async function visitorIdOf(visitor) {
  return new URL(await visitor.tab.url()).searchParams.get('visitorid');
}

test('two agents in one browser each have their own token, and no token is stored in the page (D13)', async () => {
  const visitorid = visitorId('shared');
  const visitor = await visitorOnSite(services.env, visitorid);
  const agent = await agentConsole(services.env, 'presence-two-agents.html');
  await agent.tab.evaluate((id) => GLANCE.Agent.presenceConnect(id), visitorid);
  const second = await services.env.credentials({ partneruserid: 'second-agent' });
  await agent.tab.evaluate(async ({ id, credentials }) => {
    GLANCE.Agent.logout();
    await GLANCE.Agent.authenticate(credentials);
    await GLANCE.Agent.presenceConnect(id);
  }, { id: visitorid, credentials: second });
  const { authorizations, connectFrames } = await counts(services.env);
  assert.equal(authorizations, 2, 'the second agent authorized for itself');
  assert.notEqual(connectFrames[0].authorization, connectFrames[1].authorization);
  const stored = await agent.tab.evaluate(() => [localStorage.length, sessionStorage.length, document.cookie]);
  assert.deepEqual(stored, [0, 0, ''], 'nothing in storage');
  await closeAll(agent, visitor);
});

test('hostile frames (not JSON, null, arrays, 1 MB, no data) are dropped; visitorerror is heard; the socket keeps working (D15, D20)', async () => {
  const { visitor, agent } = await connected(services.env, 'presence-hostile.html', 'hostile');
  await agent.tab.evaluate(() => { window.events.length = 0; });
  const sent = await rawFrames(services.env, [
    'not json', 'null', '[]', '[{"type":"presence"}]', '42', '"text"', '{}', '{"type":null}',
    '{"type":"presence"}', '{"type":"presence","data":null}', '{"type":"presence","data":"a string"}',
    '{"type":"visitorsock"}', '{"type":"visitorsock","data":7}', '{"type":"connected","keepalive":"soon"}',
    '{"type":"terms","data":[1,2]}', '{"type":"redirect","data":{"direct":"evil.example/path?x"}}',
    `{"type":"presence","data":{"url":"${'x'.repeat(1 << 20)}"}}`,
    '{"type":"visitorsessionstart","data":{}}',
    '{"type":"visitorerror","data":{"code":"startfailed","msg":"the visitor’s page failed"}}',
    '{"type":"presence","data":{"url":"https://shop.example/still-here"}}',
  ]);
  assert.equal(sent.agents, 1);
  await until(agent.tab, () => events.some((e) => e.data.url === 'https://shop.example/still-here'));
  const heard = await presenceEvents(agent.tab);
  assert.deepEqual(heard.find((e) => e.name === 'presenceVisitorError').data,
    { code: 'startfailed', msg: 'the visitor’s page failed', service: 'presence' }, 'visitorerror surfaces (D15)');
  assert.ok(!heard.some((e) => typeof e.data.url === 'string' && e.data.url.length > 1000), 'the 1 MB frame was dropped');
  assert.equal((await agent.windowCount()), 1, 'a session start nobody asked for opens nothing (D6: no stale join)');
  assert.ok(!(await agent.requests()).some((request) => request.url.includes('LookupPartnerSession')), 'and looks nothing up');
  assert.equal(await agent.tab.evaluate(() => GLANCE.Agent.presenceState), 'connected');
  assert.equal((await counts(services.env)).connectFrames.length, 1, 'no reconnect: the redirect to a non-host was ignored');
  assert.deepEqual(agent.problems, [], 'no page error (production threw six)');
  // A server that ends presence for good (serverclose) is not reconnected to (D9).
  await rawFrames(services.env, ['{"type":"serverclose"}']);
  await until(agent.tab, () => events.some((e) => e.name === 'presenceDisconnected'));
  assert.deepEqual((await presenceEvents(agent.tab)).find((e) => e.name === 'presenceDisconnected').data,
    { reason: 'serverclose', service: 'presence' });
  await agent.tab.sleep(2000);
  assert.equal((await counts(services.env)).connectFrames.length, 1);
  assert.equal(await agent.tab.evaluate(() => GLANCE.Agent.presenceState), 'idle');
  await closeAll(agent, visitor);
});

test('a redirect frame moves the socket to the server it names; one that keeps moving the agent is backed off from', async () => {
  const { visitor, agent } = await connected(services.env, 'presence-redirect.html', 'redirected');
  const earlier = (await agentSockets(agent)).length;
  const sockets = async () => (await agentSockets(agent)).slice(earlier).map((url) => new URL(url).host);
  const here = new URL(services.env.webserver);
  const other = `localhost:${here.port}`; // the same server under another name
  await rawFrames(services.env, [JSON.stringify({ type: 'redirect', data: { direct: other } })]);
  await eventually(async () => (await sockets()).includes(other), 'the new socket is on the named server');
  // Connected on the new socket before the next move (the state read connected before the first, too).
  await until(agent.tab, () => GLANCE.Agent.presenceState === 'connected' && events.filter((e) => e.name === 'visitorConnected').length >= 1);
  const moved = Date.now();
  await rawFrames(services.env, [JSON.stringify({ type: 'redirect', data: { direct: here.host } })]);
  await eventually(async () => (await sockets()).includes(here.host), 'and back');
  assert.ok(Date.now() - moved >= 450, 'a second move in a row waits out a backoff');
  // The service saw the socket open; the page is connected once the server's answer reached it.
  await until(agent.tab, () => GLANCE.Agent.presenceState === 'connected');
  await closeAll(agent, visitor);
  assert.deepEqual(agent.problems, []);
});

// What the browser itself logs when a presence server refuses the socket (README, "Browsers").
const REFUSED_SOCKET = {
  chromium: /^console: WebSocket connection to 'ws:\/\/127\.0\.0\.1:\d+\/agent' failed: Error in connection establishment: net::ERR_CONNECTION_REFUSED$/,
  firefox: /^pageerror: Firefox can’t establish a connection to the server at ws:\/\/127\.0\.0\.1:\d+\/agent\.$/,
};
test('a presence server that refuses the socket: reconnecting, and the console messages are the browser\'s own, with no secret',
  unsupported({ webkit: 'what WebKit logs itself is not visible to WebKitWebDriver (the page sees the same failure)' }), async () => {
    const credentials = await services.env.credentials();
    const { visitor, agent } = await connected(services.env, 'presence-refused-socket.html', 'refused-socket', { credentials });
    const closed = net.createServer();
    await new Promise((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const dead = `127.0.0.1:${closed.address().port}`;
    await new Promise((resolve) => closed.close(resolve));
    await agent.tab.evaluate(() => {
      window.states = [];
      setInterval(() => { if (states.at(-1) !== GLANCE.Agent.presenceState) states.push(GLANCE.Agent.presenceState); }, 10);
    });
    await rawFrames(services.env, [JSON.stringify({ type: 'redirect', data: { direct: dead } })]);
    await until(agent.tab, () => states.includes('reconnecting') && GLANCE.Agent.presenceState === 'connected');
    const token = (await counts(services.env)).connectFrames[0].authorization;
    await closeAll(agent, visitor);
    const refused = agent.problems.filter((problem) => REFUSED_SOCKET[ENGINE].test(problem));
    assert.ok(refused.length >= 1, agent.problems.join('\n'));
    assert.ok(refused.every((problem) => problem.includes(dead)), 'the socket to the named server');
    assert.deepEqual(agent.problems.filter((problem) => !isNetworkMessage(problem)), []);
    for (const problem of agent.problems) {
      assert.ok(!problem.includes(credentials.loginkey) && !problem.includes(token), `no secret in "${problem}"`);
    }
  });

test('load-balanced: the session starts over the socket; no login key or token in any URL or console message (D1, D16)', async () => {
  await services.env.api('/dev/presence', { loadBalanced: true, tokenObject: true });
  const credentials = await services.env.credentials();
  const visitorid = visitorId('balanced');
  const visitor = await visitorOnSite(services.env, visitorid);
  const agent = await agentConsole(services.env, 'presence-balanced.html', { credentials });
  await agent.tab.evaluate((id) => GLANCE.Agent.presenceConnect(id), visitorid);
  await agent.tab.evaluate(() => { window.started = outcome(GLANCE.Agent.presenceStartSession()); });
  await visitor.tab.waitFor('#terms[open]');
  await visitor.tab.click('#terms-accept');
  const started = await agent.tab.evaluate(() => window.started);
  assert.deepEqual(started, { ok: true, value: 'window' });
  const { invokes, connectFrames } = await counts(services.env);
  assert.equal(invokes, 1);
  assert.ok(!(await agent.requests()).some((request) => request.url.includes('signalvisitor')), 'the invoke went over the socket');
  const token = connectFrames[0].authorization;
  assert.ok(token, 'the token of an authToken answer');
  const sockets = await agentSockets(agent);
  for (const url of (await agent.requests()).map((request) => request.url)) {
    assert.ok(!url.includes(credentials.loginkey) && !url.includes(encodeURIComponent(token)) && !url.includes(token),
      `no secret in ${url}`);
  }
  assert.ok(sockets.length === 1 && sockets[0].startsWith('ws://'), 'the socket scheme follows the http webserver');
  for (const message of agent.consoleMessages) {
    assert.ok(!message.includes(credentials.loginkey) && !message.includes(token), `no secret in "${message}"`);
  }
  await closeAll(agent, visitor);
});

test('keepalive: a connected frame without one gives 30 s, and 0 is clamped to 5 s (production: 600 a second, D21)', async () => {
  await services.env.api('/dev/presence', { keepalive: null });
  const missing = await connected(services.env, 'presence-keepalive-missing.html', 'keepalive-missing');
  await missing.agent.tab.sleep(2500);
  assert.equal((await counts(services.env)).keepalives, 0);
  await closeAll(missing.agent, missing.visitor);
  await services.env.api('/dev/presence', { keepalive: 0 });
  const zero = await connected(services.env, 'presence-keepalive-zero.html', 'keepalive-zero');
  await zero.agent.tab.sleep(5600);
  const { keepalives } = await counts(services.env);
  assert.ok(keepalives >= 1 && keepalives <= 2, `${keepalives} keepalives in 5.6 s`);
  await closeAll(zero.agent, zero.visitor);
});

test('503s back off and recover: a failed settings read or findvisitor is tried again, presence is not disabled (D7, D11)', async () => {
  const visitorid = visitorId('unavailable');
  const visitor = await visitorOnSite(services.env, visitorid);
  await services.env.api('/dev/presence', { unavailable: 1, unavailableOnly: 'settings' });
  const agent = await agentConsole(services.env, 'presence-503-settings.html');
  const first = await agent.tab.evaluate((id) => outcome(GLANCE.Agent.presenceConnect(id)), visitorid);
  assert.equal(first.ok, true, JSON.stringify(first));
  const settingsReads = (await agent.requests()).filter((request) => request.url.includes('GetVisitorSettings3'));
  assert.equal(settingsReads.length, 2, 'the settings read was tried again');
  await closeAll(agent);
  await services.env.api('/dev/presence', { unavailable: 2, unavailableOnly: 'findvisitor' });
  const again = await agentConsole(services.env, 'presence-503-find.html');
  const second = await again.tab.evaluate((id) => outcome(GLANCE.Agent.presenceConnect(id)), visitorid);
  assert.equal(second.ok, true, JSON.stringify(second));
  assert.equal((await again.requests()).filter((request) => request.url.includes('findvisitor')).length, 3);
  await closeAll(again, visitor);
});

test('the visitor leaves: visitorConnected false after the grace, with no visitorData; a failed lookup is presenceLookupFailed (D14)', async () => {
  await services.env.api('/dev/presence', { unavailable: 1, unavailableOnly: 'lookupvisitor' });
  const { visitor, agent } = await connected(services.env, 'presence-leaves.html', 'leaves');
  const failed = (await presenceEvents(agent.tab)).find((e) => e.name === 'presenceLookupFailed');
  assert.equal(failed.data.service, 'presence');
  assert.equal(typeof failed.data.reason, 'string', 'an object with a reason, not a bare string');
  assert.ok(!(await presenceEvents(agent.tab)).some((e) => e.name === 'lookupFailed'), 'not the session lookup’s name');
  const left = Date.now();
  await visitor.close();
  await until(agent.tab, () => events.some((e) => e.name === 'visitorConnected' && e.data.connected === false));
  const grace = Date.now() - left;
  assert.ok(grace >= 4500, `a visitor reloading the page is not reported gone (${grace} ms)`);
  assert.equal(await agent.tab.evaluate(() => GLANCE.Agent.visitorConnected), false);
  const heard = names(await presenceEvents(agent.tab));
  assert.equal(heard.filter((name) => name === 'visitorData:presence').length, 0, 'no visitorData on leaving');
  await closeAll(agent);
});

test('presenceConnect settles: timeout rejects timedout, a signal cancels, and neither leaves presence running (D3)', async () => {
  const agent = await agentConsole(services.env, 'presence-wait.html');
  const timedOut = await agent.tab.evaluate(() => outcome(GLANCE.Agent.presenceConnect('v-never-here', { timeout: 1200 })));
  assert.deepEqual([timedOut.code, timedOut.isError], ['timedout', true]);
  assert.equal(await agent.tab.evaluate(() => GLANCE.Agent.presenceState), 'idle');
  const canceled = await agent.tab.evaluate(() => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    return outcome(GLANCE.Agent.presenceConnect('v-never-here', { signal: controller.signal }));
  });
  assert.equal(canceled.code, 'canceled');
  const finds = (await agent.requests()).filter((request) => request.url.includes('findvisitor')).length;
  await agent.tab.sleep(2500);
  assert.equal((await agent.requests()).filter((request) => request.url.includes('findvisitor')).length, finds, 'no polling after');
  const reasons = (await presenceEvents(agent.tab)).filter((e) => e.name === 'presenceDisconnected').map((e) => e.data.reason);
  assert.deepEqual(reasons, ['timedout', 'canceled']);
  const invalid = await agent.tab.evaluate(() => Promise.all([
    outcome(GLANCE.Agent.presenceConnect('')), outcome(GLANCE.Agent.presenceConnect('v', { timeout: -1 }))]));
  assert.deepEqual(invalid.map((result) => result.code), ['invalid_argument', 'invalid_argument']);
  await closeAll(agent);
});

test('a visitor who ignores the invoke: timedout after joinParams.timeout, the waiting window closes; a second start replaces the first (D6)', async () => {
  await services.env.api('/dev/presence', { ignoreInvoke: true });
  const { visitor, agent } = await connected(services.env, 'presence-ignored.html', 'ignores');
  const firstPopup = agent.waitForWindow();
  await agent.tab.evaluate(() => { window.first = outcome(GLANCE.Agent.presenceStartSession('1111', undefined, { timeout: 30000 })); });
  const firstWindow = await firstPopup;
  const firstClosed = firstWindow.closed();
  // The visitor has been asked (and ignores it) before the second start: a start still finding the
  // visitor when it is replaced never asks, so the count below would depend on timing.
  await eventually(async () => (await counts(services.env)).invokes === 1, 'the visitor was asked once');
  const popup = agent.waitForWindow();
  await agent.tab.evaluate(() => { window.started = outcome(GLANCE.Agent.presenceStartSession('2222', undefined, { timeout: 1500 })); });
  const waiting = await popup;
  const closed = waiting.closed();
  assert.equal((await agent.tab.evaluate(() => window.first)).code, 'canceled', 'the newer start replaced it');
  await firstClosed;
  const started = await agent.tab.evaluate(() => window.started);
  assert.equal(started.code, 'timedout');
  await closed;
  assert.equal((await counts(services.env)).invokes, 2);
  await closeAll(agent, visitor);
  assert.deepEqual(agent.problems, []);
});

test('outside a click with a popup blocker: popupblocked and popup_blocked at once, the visitor is not asked (D22)', async () => {
  const visitorid = visitorId('blocked');
  const visitor = await visitorOnSite(services.blocking, visitorid);
  // Nothing may evaluate in the page until the start settles: Playwright's evaluate counts as a user
  // gesture. The page starts as soon as the visitor is seen, from a network event.
  const agent = await services.blocking.open();
  const settled = agent.tab.waitForConsole('started ');
  await agent.tab.goto(services.blocking.page('presence-blocked.html', consolePage(services.blocking, {
    credentials: await services.blocking.credentials(), body: `<script>
      GLANCE.Agent.postParametersToViewer = true;
      GLANCE.Agent.presenceConnect(${JSON.stringify(visitorid)})
        .then(() => outcome(GLANCE.Agent.presenceStartSession()))
        .then((started) => console.log('started ' + JSON.stringify(started)));
    </script>` })));
  const started = JSON.parse((await settled).slice('started '.length));
  assert.deepEqual([started.code, started.isError], ['popup_blocked', true]);
  assert.ok((await agent.tab.evaluate(() => events.map((e) => e.name))).includes('popupblocked'));
  assert.equal((await agent.windowCount()), 1, 'no window opened');
  assert.equal((await counts(services.blocking)).invokes, 0, 'no terms dialog for a session the agent could not see');
  assert.equal(await visitor.tab.count('#terms[open]'), 0);
  await closeAll(agent, visitor);
  assert.deepEqual(agent.problems, []);
});

test('leaveSession and end(): the agent leaves the sessions it joined, the viewer closes (D18)', async () => {
  const agent = await agentConsole(services.env, 'presence-leave.html');
  for (const key of ['55501', '55502']) await services.env.startSession(key);
  for (const key of ['55501', '55502']) {
    const joined = await agent.tab.evaluate((key) => outcome(GLANCE.Agent.joinSession(key)), key);
    assert.equal(joined.ok, true, JSON.stringify(joined));
  }
  // The agent is in a session once its viewer has loaded and connected.
  await until(agent.tab, () => events.filter((e) => e.name === 'connecting').length === 2);
  const left = await agent.tab.evaluate(() => outcome(GLANCE.Agent.leaveSession('55501')));
  assert.deepEqual(left, { ok: true, value: true });
  const eject = (await agent.requests()).find((request) => request.url.endsWith('/agent/message'));
  const message = JSON.parse(eject.body);
  assert.equal(message.mtype, 'EjectAgent');
  const again = await agent.tab.evaluate(() => outcome(GLANCE.Agent.leaveSession('55501')));
  assert.deepEqual([again.ok, again.isError, again.code], [false, true, 'invalid_argument'], 'no longer in it');
  const viewers = (await agent.windowCount());
  const ended = await agent.tab.evaluate(() => outcome(GLANCE.Agent.end()));
  assert.equal(ended.ok, true);
  const heard = await agent.tab.evaluate(() => events.map((e) => e.name));
  assert.equal(heard.filter((name) => name === 'viewerClosed').length, 2);
  await until(agent.tab, () => true);
  assert.equal((await agent.windowCount()), viewers - 2, 'both viewers closed');
  const inSession = await agent.tab.evaluate(() => outcome(GLANCE.Agent.leaveSession('55502')));
  assert.equal(inSession.code, 'invalid_argument', 'end() left the other session too');
  await closeAll(agent);
  assert.deepEqual(agent.problems, []);
});

test('compatibility: the sample console’s calls, in its order (presenceConnect, visitorConnected, presenceStartSession(visitorid)); no unload listener (D19)', async () => {
  const credentials = await services.env.credentials();
  const visitorid = String(700000 + visitors++);
  const visitor = await visitorOnSite(services.env, visitorid);
  // As the sample: listeners first; each click authenticates, then connects or starts. The first
  // script records every listener added to the window.
  const agent = await services.env.open(services.env.page('presence-sample.html', `<!doctype html><meta charset="utf-8">
    <script>
      window.listened = [];
      const add = EventTarget.prototype.addEventListener;
      EventTarget.prototype.addEventListener = function (type, ...rest) {
        if (this === window) window.listened.push(type);
        return add.call(this, type, ...rest);
      };
    </script>
    <script src="/dist/script/glance-agent.js"></script>
    <input id="visitorid"><button id="join">Join</button>
    <script>
      GLANCE.Agent.webserver = ${JSON.stringify(services.env.webserver)};
      let present = false;
      window.log = [];
      GLANCE.Agent.addEventListenerAll(function (name, data) {
        if (name === 'visitorConnected') present = data.connected;
        if (name === 'viewerOpened') window.viewer = data;
        log.push(name);
      });
      document.getElementById('join').onclick = () => {
        const sessionkey = document.getElementById('visitorid').value;
        GLANCE.Agent.authenticate(${JSON.stringify(credentials)});
        if (present) GLANCE.Agent.presenceStartSession(sessionkey);
        else GLANCE.Agent.presenceConnect(sessionkey);
      };
    </script>`));
  await agent.tab.fill('#visitorid', visitorid);
  await agent.tab.click('#join');
  await until(agent.tab, () => log.includes('visitorConnected'));
  const popup = agent.waitForWindow();
  await agent.tab.click('#join');
  const viewer = await popup;
  await visitor.tab.waitFor('#terms[open]');
  assert.equal(await visitor.tab.text('#terms-key'), visitorid, 'the visitor id as the session key');
  await visitor.tab.click('#terms-accept');
  await until(agent.tab, () => log.includes('viewerOpened'));
  await viewer.waitFor('#key');
  assert.equal(await viewer.text('#key'), visitorid);
  const closed = viewer.closed();
  await agent.tab.evaluate(() => window.viewer.close()); // the sample's Close button
  await closed;
  await agent.tab.evaluate(() => GLANCE.Agent.end()); // the sample's End button
  const listened = await agent.tab.evaluate(() => window.listened);
  assert.ok(!listened.includes('unload') && !listened.includes('beforeunload'), `window listeners: ${listened}`);
  assert.equal(await agent.tab.evaluate(() => window.onunload), null);
  await closeAll(agent, visitor);
  assert.deepEqual(agent.problems, []);
});
