// What the agent sees when credentials are refused or the service misbehaves: every promise settles
// with a coded Error, lookups retry or fail as PROTOCOL.md section 2 says, and no page error escapes.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, beforeEach, test } from 'node:test';
import { consolePage, ENGINE, isNetworkMessage, names, start, unsupported, until } from './harness.mjs';

let env;
let credentials;
before(async () => {
  env = await start();
  credentials = await env.credentials();
});
beforeEach(() => env.faults({ lookup: 'none' }));
after(() => env?.stop());

/** Failed network requests are logged by the browser itself (isNetworkMessage); anything else is a defect. */
const pageProblems = (problems) => problems.filter((problem) => !isNetworkMessage(problem));

async function consoleWith(name, authenticate = credentials, setup = '') {
  const url = env.page(name, consolePage(env, { credentials: authenticate, body: `<script>${setup}</script>` }));
  return env.open(url);
}

const lookups = (requests) => requests.filter((request) => request.url.includes('LookupPartnerSession2'));

/**
 * Joins `key` and returns the settled outcome with the events and lookup requests seen. A viewer that
 * opened is waited for until it reports `connecting`, so the events are the same on every run.
 */
async function join(session, key, params) {
  const outcome = await session.tab.evaluate(([k, p]) => outcome(GLANCE.Agent.joinSession(k, p)), [key, params]);
  if (outcome.ok) await until(session.tab, () => events.some((e) => e.name === 'connecting'));
  const events = await session.tab.evaluate(() => events);
  return { outcome, events, lookups: lookups(await session.requests()) };
}

test('a refused login key: lookupFailed with the service reason after one attempt, no viewer', async () => {
  await env.startSession('2001');
  // A character in the middle of the signature: the last one carries unused bits, so changing it can
  // make the key malformed instead of wrongly signed.
  const at = credentials.loginkey.length - 20;
  const swapped = credentials.loginkey[at] === 'A' ? 'B' : 'A';
  const tampered = { ...credentials, loginkey: credentials.loginkey.slice(0, at) + swapped + credentials.loginkey.slice(at + 1) };
  const session = await consoleWith('refused.html', tampered);
  const { outcome, events, lookups } = await join(session, '2001');
  assert.deepEqual({ ...outcome, message: undefined }, { ok: false, isError: true, code: 'service_error', message: undefined });
  assert.deepEqual(names(events), ['lookupWaiting:agent', 'lookupFailed:agent']);
  assert.match(events[1].data.reason, /Login key invalid/);
  assert.equal(events[1].data.ssnkey, '2001');
  assert.equal(lookups.length, 1, 'a refusal is not retried');
  await session.close();
  assert.deepEqual(pageProblems(session.problems), []);
});

test('an expired login key: refused by the service when its clock says so, and caught before sending when ours does', async () => {
  await env.startSession('2002');
  await env.faults({ lookup: 'none', clockSkew: 7200 });
  let session = await consoleWith('expired-service.html');
  let result = await join(session, '2002');
  assert.equal(result.outcome.code, 'service_error');
  assert.match(result.events.at(-1).data.reason, /Login key expired/);
  await session.close();
  assert.deepEqual(pageProblems(session.problems), []);

  await env.faults({ lookup: 'none' });
  session = await consoleWith('expired-local.html', await env.credentials({ expiresIn: -5 }));
  result = await join(session, '2002');
  assert.equal(result.outcome.code, 'loginkey_expired');
  assert.deepEqual(names(result.events), ['lookupFailed:agent']);
  assert.equal(result.lookups.length, 0, 'no request goes out with a key known to be expired');
  await session.close();
  assert.deepEqual(pageProblems(session.problems), []);
});

test('a key for another partner or agent, or too far ahead, gets the service reason', async () => {
  await env.startSession('2003');
  const cases = [
    [{ ...credentials, partnerid: 99999 }, /Unknown partner id/],
    [{ ...credentials, partneruserid: 'someone else' }, /Login key invalid/],
    [await env.credentials({ expiresIn: 3 * 86400 }), /more than one day ahead/],
  ];
  for (const [refused, reason] of cases) {
    const session = await consoleWith('partner.html', refused);
    const { outcome, events } = await join(session, '2003');
    assert.equal(outcome.code, 'service_error');
    assert.match(events.at(-1).data.reason, reason);
    await session.close();
    assert.deepEqual(pageProblems(session.problems), []);
  }
});

// What the browser itself writes on the page's console when the service cannot be reached: the library
// reports the failure its own way (service_unavailable) and logs nothing, but the engine logs the
// failed request as an error of the page, each in its own words (README, "Browsers").
const REFUSED_REQUEST = {
  chromium: /^console: Failed to load resource: net::ERR_CONNECTION_REFUSED$/,
  firefox: /^pageerror: Cross-Origin Request Blocked: The Same Origin Policy disallows reading the remote resource at http:\/\/127\.0\.0\.1:\d+\/services\/SessionService\.asmx\/LookupPartnerSession2\. \(Reason: CORS request did not succeed\)/,
};
test('the service down: the console messages are the browser\'s own, one per failed request, in each engine\'s words',
  unsupported({ webkit: 'what WebKit logs itself is not visible to WebKitWebDriver (the page sees the same failure)' }), async () => {
    const closed = net.createServer();
    await new Promise((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = closed.address().port;
    await new Promise((resolve) => closed.close(resolve));
    const session = await consoleWith('down-console.html', credentials, `GLANCE.Agent.webserver = 'http://127.0.0.1:${port}';`);
    const results = await session.tab.evaluate(() => Promise.all([1, 2].map(() => outcome(GLANCE.Agent.lookupSession('2010', false)))));
    assert.deepEqual(results.map((result) => result.code), ['service_unavailable', 'service_unavailable']);
    await session.tab.sleep(500); // the engine's messages may come a moment after the page heard
    await session.close();
    assert.equal(session.problems.length, 2, session.problems.join('\n'));
    for (const problem of session.problems) {
      assert.match(problem, REFUSED_REQUEST[ENGINE]);
      assert.ok(isNetworkMessage(problem), 'the tests name it among the engine\'s own network messages');
      assert.ok(!problem.includes(credentials.loginkey.split('$')[3]), 'no credential in it');
    }
  });

test('the service down: a single lookup fails at once, a waiting one retries on the schedule until canceled', async () => {
  const closed = net.createServer();
  await new Promise((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = closed.address().port;
  await new Promise((resolve) => closed.close(resolve));
  const session = await consoleWith('down.html', credentials, `GLANCE.Agent.webserver = 'http://127.0.0.1:${port}';`);
  const single = await session.tab.evaluate(() => outcome(GLANCE.Agent.lookupSession('2004', false)));
  assert.equal(single.code, 'service_unavailable');
  await session.tab.evaluate(() => { events.length = 0; window.joined = outcome(GLANCE.Agent.joinSession('2004')); });
  await until(session.tab, () => events.filter((e) => e.name === 'lookupWaiting').length === 2);
  await session.tab.evaluate(() => GLANCE.Agent.cancelLookup());
  assert.equal((await session.tab.evaluate(() => window.joined)).code, 'canceled');
  const events = await session.tab.evaluate(() => events);
  assert.deepEqual(names(events), ['lookupWaiting:agent', 'lookupWaiting:agent', 'lookupCanceled:agent']);
  const gap = events[1].at - events[0].at;
  assert.ok(gap >= 2900 && gap < 4500, `the retry came 3 s after the first attempt (${gap} ms)`);
  await session.close();
  assert.deepEqual(pageProblems(session.problems), []);
});

test('HTTP 500: a single lookup fails with the body as reason; a waiting lookup retries and then finds', async () => {
  await env.startSession('2005');
  await env.faults({ lookup: 'error', count: 1 });
  const session = await consoleWith('error500.html');
  const single = await session.tab.evaluate(() => outcome(GLANCE.Agent.lookupSession('2005', false)));
  assert.equal(single.code, 'service_unavailable');
  assert.match(single.message, /simulated fault/);

  await env.faults({ lookup: 'error', count: 2 });
  await session.tab.evaluate(() => { events.length = 0; });
  const { outcome, events } = await join(session, '2005');
  assert.deepEqual(outcome, { ok: true, value: 'window' });
  assert.deepEqual(names(events), ['lookupWaiting:agent', 'lookupWaiting:agent', 'lookupWaiting:agent', 'lookupFound:agent',
    'viewerOpened:agent', 'connecting:cobrowse']);
  const gaps = [events[1].at - events[0].at, events[2].at - events[1].at];
  assert.ok(gaps.every((gap) => gap >= 2900 && gap < 4500), `retries 3 s apart (${gaps})`);
  await session.close();
  assert.deepEqual(pageProblems(session.problems), []);
});

test('a body that is not XML ends the lookup at once with the text as reason', async () => {
  await env.startSession('2006');
  await env.faults({ lookup: 'garbage' });
  const session = await consoleWith('garbage.html');
  const { outcome, events, lookups } = await join(session, '2006');
  assert.equal(outcome.code, 'service_error');
  assert.deepEqual(names(events), ['lookupWaiting:agent', 'lookupFailed:agent']);
  assert.match(events[1].data.reason, /this is not XML/);
  assert.equal(lookups.length, 1);
  await session.close();
  assert.deepEqual(pageProblems(session.problems), []);
});

test('a hanging service: each request ends at requestTimeout; waiting lookups retry, single ones fail', async () => {
  await env.startSession('2007');
  await env.faults({ lookup: 'hang' });
  const session = await consoleWith('hang.html', credentials, 'GLANCE.Agent.requestTimeout = 800;');
  const started = Date.now();
  const single = await session.tab.evaluate(() => outcome(GLANCE.Agent.lookupSession('2007', false)));
  const took = Date.now() - started;
  assert.equal(single.code, 'service_unavailable');
  assert.ok(took >= 700 && took < 3000, `the request was given up after its timeout (${took} ms)`);

  await env.faults({ lookup: 'hang', count: 1 });
  await session.tab.evaluate(() => { events.length = 0; });
  const { outcome, events } = await join(session, '2007');
  assert.deepEqual(outcome, { ok: true, value: 'window' });
  assert.deepEqual(names(events), ['lookupWaiting:agent', 'lookupWaiting:agent', 'lookupFound:agent', 'viewerOpened:agent',
    'connecting:cobrowse']);
  await session.close();
  assert.deepEqual(pageProblems(session.problems), []);
});

test('cancel during a waiting lookup: lookupCanceled, a canceled rejection, the request in flight aborted, no more requests', async () => {
  await env.faults({ lookup: 'delay', delayMs: 5000 });
  const session = await consoleWith('cancel.html');
  await session.tab.evaluate(() => { window.joined = outcome(GLANCE.Agent.joinSession('2008')); });
  await until(session.tab, () => events.some((e) => e.name === 'lookupWaiting'));
  await session.tab.sleep(300); // the first request is now in flight, held 5 s by the service
  const started = Date.now();
  await session.tab.evaluate(() => events.find((e) => e.name === 'lookupWaiting') && GLANCE.Agent.cancelLookup());
  const joined = await session.tab.evaluate(() => window.joined);
  assert.ok(Date.now() - started < 1000, 'the promise settles without waiting for the answer');
  assert.deepEqual({ code: joined.code, isError: joined.isError }, { code: 'canceled', isError: true });
  await session.tab.sleep(3500);
  const events = await session.tab.evaluate(() => events);
  assert.deepEqual(names(events), ['lookupWaiting:agent', 'lookupCanceled:agent']);
  assert.equal(events[1].data.ssnkey, '2008');
  const seen = lookups(await session.requests());
  assert.equal(seen.length, 1, 'no request after the cancel');
  assert.equal(seen[0].aborted, true, 'the service saw the request in flight given up');
  await session.close();
  assert.deepEqual(pageProblems(session.problems), []);
});

test('popup blocked by the browser: popupblocked, a popup_blocked rejection, no hang', async () => {
  // Its own browser, with the browser's own popup blocker on; the page joins at load, without a user gesture.
  const blocking = await start({ popupBlocking: true });
  try {
    const allowed = await blocking.credentials();
    await blocking.startSession('2009');
    const url = blocking.page('blocked.html', consolePage(blocking, { credentials: allowed, body: `<script>
      outcome(GLANCE.Agent.joinSession('2009')).then((joined) => console.log('joined ' + JSON.stringify(joined)));
    </script>` }));
    // Nothing may evaluate in the page until the join settles: Playwright's evaluate counts as a user gesture.
    const session = await blocking.open();
    const settled = session.tab.waitForConsole('joined ');
    await session.tab.goto(url);
    const joined = JSON.parse((await settled).slice('joined '.length));
    assert.deepEqual({ code: joined.code, isError: joined.isError }, { code: 'popup_blocked', isError: true });
    assert.deepEqual(names(await session.tab.evaluate(() => events)), ['lookupWaiting:agent', 'lookupFound:agent', 'popupblocked:agent']);
    assert.equal((await session.windowCount()), 1, 'no window opened');
    await session.close();
    assert.deepEqual(pageProblems(session.problems), []);
  } finally {
    await blocking.stop();
  }
});
