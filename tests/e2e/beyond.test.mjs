// What the library does beyond the production script (issue 5), against the local service in
// Chromium: the popup-proof join, per-call cancellation with an AbortSignal, listener disposers and
// `once`.
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { consolePage, names, start } from './harness.mjs';

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
  const settled = session.tab.waitForEvent('console', { predicate: (message) => message.text().startsWith('joined '),
    timeout: 30000 });
  const waiting = session.context.waitForEvent('page');
  await session.tab.click('#join');
  const viewer = await waiting;
  assert.match(await viewer.title(), /Waiting for the customer to start session 6001/);
  // The customer starts 4 s later: the lookup finds the session on a later attempt, long after the
  // click could have opened a window.
  await new Promise((resolve) => setTimeout(resolve, 4000));
  await blocking.startSession('6001');
  const joined = JSON.parse((await settled).text().slice('joined '.length));
  assert.deepEqual(joined, { ok: true, value: 'window' });
  await viewer.locator('#key').waitFor();
  assert.equal(await viewer.locator('#key').textContent(), '6001', 'the waiting window became the viewer');
  const heard = names(await session.tab.evaluate(() => events));
  assert.ok(!heard.includes('popupblocked:agent'), heard.join());
  assert.equal(session.context.pages().length, 2, 'one window for the viewer, no second one');
  await session.context.close();
  assert.deepEqual(session.problems, []);
});

test('the waiting window closes when the lookup is canceled or fails', async () => {
  const session = await env.open(env.page('cancel-wait.html', consolePage(env, { credentials })));
  let waiting = session.context.waitForEvent('page');
  await session.tab.evaluate(() => { window.joined = outcome(GLANCE.Agent.joinSession('6002')); });
  let placeholder = await waiting;
  assert.match(await placeholder.title(), /Waiting for the customer to start session 6002/);
  let closed = placeholder.waitForEvent('close');
  await session.tab.evaluate(() => GLANCE.Agent.cancelLookup());
  await closed;
  assert.equal((await session.tab.evaluate(() => window.joined)).code, 'canceled');

  waiting = session.context.waitForEvent('page');
  await session.tab.evaluate(() => { window.joined = outcome(GLANCE.Agent.joinSession('6002', { wait: false })); });
  placeholder = await waiting;
  closed = placeholder.waitForEvent('close');
  await closed;
  assert.equal((await session.tab.evaluate(() => window.joined)).code, 'not_found');
  assert.equal(session.context.pages().length, 1);
  await session.context.close();
  assert.deepEqual(session.problems, []);
});

test('params.signal cancels a lookup or a join: canceled, lookupCanceled, the request aborted', async () => {
  await env.faults({ lookup: 'delay', delayMs: 5000 });
  const session = await env.open(env.page('signal.html', consolePage(env, { credentials })));
  const aborted = [];
  session.context.on('requestfailed', (request) => aborted.push(request.failure()?.errorText));
  const lookup = await session.tab.evaluate(async () => {
    const controller = new AbortController();
    const result = outcome(GLANCE.Agent.lookupSession('6004', { signal: controller.signal }));
    setTimeout(() => controller.abort(), 300);
    return result;
  });
  assert.equal(lookup.code, 'canceled');
  for (let wait = 0; wait < 40 && aborted.length === 0; wait += 1) await session.tab.waitForTimeout(50);
  assert.deepEqual(aborted, ['net::ERR_ABORTED'], 'the request in flight was aborted');

  const waiting = session.context.waitForEvent('page');
  const join = session.tab.evaluate(async () => {
    const controller = new AbortController();
    const result = outcome(GLANCE.Agent.joinSession('6004', { signal: controller.signal }));
    setTimeout(() => controller.abort(), 300);
    return result;
  });
  const placeholder = await waiting;
  const closed = placeholder.waitForEvent('close');
  assert.equal((await join).code, 'canceled');
  await closed;
  const heard = names(await session.tab.evaluate(() => events));
  assert.deepEqual(heard.filter((name) => name.startsWith('lookupCanceled')), ['lookupCanceled:agent', 'lookupCanceled:agent']);
  await session.context.close();
  assert.deepEqual(session.problems, []);
});

test('an aborted signal rejects at once: no lookup, no window, no request; a bad signal is refused', async () => {
  await env.startSession('6005');
  const session = await env.open(env.page('aborted.html', consolePage(env, { credentials })));
  const before = session.requests.length;
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
  assert.equal(session.requests.length, before, 'nothing was requested');
  assert.equal(session.context.pages().length, 1, 'no window opened');
  assert.deepEqual(names(await session.tab.evaluate(() => events)), []);
  // A signal that is never aborted does not disturb the call, and { wait: false } still means one look.
  const found = await session.tab.evaluate(() =>
    outcome(GLANCE.Agent.lookupSession('6005', { wait: false, signal: new AbortController().signal })));
  assert.equal(found.ok, true);
  await session.context.close();
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
  await session.context.close();
  assert.deepEqual(session.problems, []);
});
