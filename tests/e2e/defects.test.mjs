// The defects of the two-centred design (issue 11), each as a console meets it, against the local
// service in the engine under test. Each of these failed before the module owned every rule.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { consolePage, isNetworkMessage, names, twoServices } from './harness.mjs';

const services = twoServices();

test('a join whose first key is refused keeps its waiting window: the viewer opens in it after a slow renewal', async () => {
  // Before: the refused attempt closed the waiting window, and the join was made again outside the
  // click once the next key came (6 s later, past the click's activation): popup_blocked.
  await services.blocking.startSession('3001');
  const session = await services.blocking.open();
  const good = await services.blocking.credentials();
  const keys = [{ ...good, loginkey: good.loginkey.slice(0, -20) + 'A'.repeat(20) }, good];
  services.blocking.expose('nextKey', async () => {
    const key = keys.shift();
    if (keys.length === 0) await new Promise((resolve) => setTimeout(resolve, 6000)); // the renewal is slow
    return key;
  });
  await session.tab.goto(services.blocking.page('slow-renewal.html', consolePage(services.blocking, { expose: ['nextKey'], body: `
    <button id="join">Join</button>
    <script>
      GLANCE.Agent.authenticate({ getLoginKey: () => nextKey() });
      document.getElementById('join').addEventListener('click', () => {
        outcome(GLANCE.Agent.joinSession('3001')).then((joined) => console.log('joined ' + JSON.stringify(joined)));
      });
    </script>` })));
  await session.tab.waitForFunction(() => GLANCE.Agent.ready.then(() => true));
  await session.tab.sleep(300); // the first (refused) key is held
  const settled = session.tab.waitForConsole('joined ', { timeout: 30000 });
  const opened = session.waitForWindow();
  await session.tab.click('#join');
  const viewer = await opened;
  const joined = JSON.parse((await settled).slice('joined '.length));
  assert.deepEqual(joined, { ok: true, value: 'window' });
  await viewer.waitFor('#key');
  assert.equal(await viewer.text('#key'), '3001', 'the waiting window became the viewer');
  const heard = names(await session.tab.evaluate(() => events)).filter((name) => name.endsWith(':agent'));
  assert.deepEqual(heard, ['lookupWaiting:agent', 'lookupFound:agent', 'viewerOpened:agent'],
    'the renewal is invisible: no lookupFailed, no second lookupWaiting, no popupblocked');
  await session.close();
  assert.deepEqual(session.problems, []);
});

test('diagnose reports a getLoginKey that fails, and why; an expired key and no sign-in each by name', async () => {
  // Before: any getLoginKey passed ("getLoginKey provides login keys"), and "not authenticated" came
  // only from a missing expiry read as NaN.
  const session = await services.env.open(services.env.page('diagnose-keys.html', consolePage(services.env)));
  const reports = await session.tab.evaluate(async (expired) => {
    GLANCE.Agent.authenticate({ getLoginKey: () => Promise.reject(new Error('key server down')) });
    const failing = (await GLANCE.Agent.diagnose()).credentials;
    GLANCE.Agent.authenticate(expired);
    const old = (await GLANCE.Agent.diagnose()).credentials;
    GLANCE.Agent.logout();
    const none = (await GLANCE.Agent.diagnose()).credentials;
    return { failing, old, none };
  }, await services.env.credentials({ expiresIn: -30 }));
  assert.deepEqual(reports.failing.ok, false);
  assert.match(reports.failing.detail, /getLoginKey failed: .*key server down/);
  assert.deepEqual(reports.old, { ok: false, detail: 'the login key has expired' });
  assert.deepEqual(reports.none, { ok: false, detail: 'not authenticated' });
  await session.close();
});

test('a console served with Cross-Origin-Opener-Policy: same-origin: viewerDetached once, never viewerClosed for an open viewer', async () => {
  // Before: the browser severed the viewer window from the console, its handle read as closed, and
  // viewerClosed fired at once while the agent's viewer was open and working.
  await services.env.startSession('3002');
  const credentials = await services.env.credentials();
  const session = await services.env.open(services.env.page('coop.html', consolePage(services.env, { credentials }),
    { 'Cross-Origin-Opener-Policy': 'same-origin' }));
  const opened = session.waitForWindow();
  const joined = await session.tab.evaluate(() => outcome(GLANCE.Agent.joinSession('3002')));
  assert.deepEqual(joined, { ok: true, value: 'window' });
  const viewer = await opened;
  await viewer.waitFor('#key');
  assert.equal(await viewer.text('#key'), '3002', 'the viewer loaded');
  await session.tab.waitForFunction(() => events.some((e) => e.name === 'viewerDetached'), null, { timeout: 10000 });
  await session.tab.sleep(1200); // the closed-viewer watcher runs twice a second
  assert.equal(await viewer.isClosed(), false, 'the viewer window is still open');
  const heard = await session.tab.evaluate(() => events.map(({ name, data }) => ({ name, data })));
  assert.deepEqual(heard.filter(({ name }) => name.startsWith('viewer')),
    [{ name: 'viewerOpened', data: { service: 'agent', close: 'ƒ' } },
      { name: 'viewerDetached', data: { service: 'agent', reason: 'opener_severed' } }]);
  // The agent's diagnose says what to do about it.
  const report = await session.tab.evaluate(() => GLANCE.Agent.diagnose());
  assert.equal(report.opener.ok, false);
  assert.match(report.opener.detail, /iframe/);
  await session.close();
  assert.deepEqual(session.problems.filter((problem) => !isNetworkMessage(problem)), []);
});

test("a lookup started inside another one's lookupWaiting has its own signal", async () => {
  // Before: the facade took the newest lookup id before and after a call to learn which lookup the
  // call started; a lookup started from inside the first one's lookupWaiting took its signal.
  await services.env.startSession('3102');
  await services.env.faults({ lookup: 'delay', delayMs: 3000 });
  const session = await services.env.open(services.env.page('nested-signal.html', consolePage(services.env, { credentials: await services.env.credentials() })));
  const outcomes = await session.tab.evaluate(async () => {
    const first = new AbortController();
    let second;
    let secondStarted;
    const started = new Promise((resolve) => { secondStarted = resolve; });
    GLANCE.Agent.addEventListener('lookupWaiting', (name, data) => {
      if (data.ssnkey === '3101' && !second) {
        second = outcome(GLANCE.Agent.lookupSession('3102', { wait: false }));
        secondStarted();
      }
    });
    const firstDone = outcome(GLANCE.Agent.lookupSession('3101', { signal: first.signal }));
    // Aborted once the second lookup has started (a fixed delay raced the module's loading).
    await started;
    first.abort();
    return [await firstDone, await second];
  });
  await services.env.faults({ lookup: 'none' });
  assert.equal(outcomes[0].code, 'canceled', 'the first lookup ends with its signal');
  assert.equal(outcomes[1].ok, true, 'the second lookup is untouched by it');
  const heard = (await session.tab.evaluate(() => events)).filter((e) => e.name.startsWith('lookup'));
  assert.deepEqual(heard.map((e) => `${e.name}:${e.data.ssnkey ?? e.data.passcode}`),
    ['lookupWaiting:3101', 'lookupWaiting:3102', 'lookupCanceled:3101', 'lookupFound:3102']);
  await session.close();
});

test('a key the service refuses is renewed once, unseen by listeners: one waiting, one terminal event', async () => {
  // Before: lookupWaiting, lookupFailed, then the whole call again (lookupWaiting, lookupFound).
  await services.env.startSession('3103');
  const session = await services.env.open();
  const good = await services.env.credentials();
  const keys = [{ ...good, loginkey: good.loginkey.slice(0, -20) + 'A'.repeat(20) }, good];
  services.env.expose('nextKey', async () => keys.shift());
  await session.tab.goto(services.env.page('refused-once.html', consolePage(services.env, { expose: ['nextKey'], body: `
    <script>GLANCE.Agent.authenticate({ getLoginKey: () => nextKey() });</script>` })));
  const found = await session.tab.evaluate(() => outcome(GLANCE.Agent.lookupSession('3103', false)));
  assert.equal(found.ok, true);
  assert.deepEqual(names(await session.tab.evaluate(() => events)), ['lookupWaiting:agent', 'lookupFound:agent']);
  assert.equal(keys.length, 0, 'both keys asked for');
  await session.close();
  assert.deepEqual(session.problems, []);
});
