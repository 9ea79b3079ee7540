// Joining sessions of the local Glance service from a console page, in the engine under test: lookups, the
// viewer window or iframe, and the viewer's events reaching the page's listeners.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { consolePage, names, poll, start, until } from './harness.mjs';

let env;
let credentials;
before(async () => {
  env = await start();
  credentials = await env.credentials();
});
after(() => env?.stop());

const eventCount = (tab, name, service) =>
  tab.evaluate(([n, s]) => events.filter((e) => e.name === n && e.data.service === s).length, [name, service]);

test('join after the visitor starts: lookup, viewer, events to named and catch-all listeners, in order', async () => {
  const key = '1001';
  await env.startSession(key, 'C');
  const url = env.page('join-after.html', consolePage(env, { credentials, body: `<script>
    for (const name of ['navigate', 'rc', 'guestCountChanged']) {
      GLANCE.Agent.addEventListener(name, (event, data) => named.push(event + ':' + data.service));
    }</script>` }));
  const session = await env.open(url);
  const { tab, problems } = session;
  const popup = session.waitForWindow();
  const joined = await tab.evaluate((k) => outcome(GLANCE.Agent.joinSession(k)), key);
  assert.deepEqual(joined, { ok: true, value: 'window' }, 'the promise resolves to the viewer window');
  await popup;
  await until(tab, () => events.some((e) => e.name === 'connecting'));

  await env.emit(key, 'navigate', { url: 'https://shop.example/cart' });
  await env.emit(key, 'rc', { enabled: true });
  await env.emit(key, 'guestCountChanged', { count: 1 }, 'video');
  await until(tab, () => named.length === 3);

  const events = await tab.evaluate(() => events);
  assert.deepEqual(names(events), ['lookupWaiting:agent', 'lookupFound:agent', 'viewerOpened:agent',
    'connecting:cobrowse', 'navigate:cobrowse', 'rc:cobrowse', 'guestCountChanged:video']);
  const found = events[1].data;
  assert.equal(found.passcode, key);
  assert.equal(found.calltype, 'C');
  assert.equal(found.agentjoinurl.startsWith(`${env.webserver}/agentjoin/AgentView.aspx?SessionKey=${key}`), true);
  assert.deepEqual(events[3].data, { groupid: '20541', visitorid: key, ssnkey: key, service: 'cobrowse' });
  assert.equal(events[4].data.url, 'https://shop.example/cart');
  assert.equal(events[4].data.browser.name, 'chrome', 'the payload keeps the reference shape');
  assert.deepEqual(await tab.evaluate(() => named), ['navigate:cobrowse', 'rc:cobrowse', 'guestCountChanged:video']);
  await session.close();
  assert.deepEqual(problems, []);
});

test('join before the visitor starts: the lookup waits, then finds; screenshare events and sessionEnded', async () => {
  const key = '1002';
  const url = env.page('join-before.html', consolePage(env, { credentials }));
  const session = await env.open(url);
  const { tab, problems } = session;
  await tab.evaluate((k) => { window.joined = outcome(GLANCE.Agent.joinSession(k)); }, key);
  // The first attempt has been answered "not yet" before the visitor starts.
  await poll(async () => (await session.requests()).some((request) => request.url.endsWith('/LookupPartnerSession2') && request.answered),
    { what: 'the first lookup answered' });
  await until(tab, () => events.some((e) => e.name === 'lookupWaiting'));
  assert.equal(await eventCount(tab, 'lookupFound', 'agent'), 0, 'nothing found before the visitor starts');
  await env.startSession(key, 'G');
  assert.deepEqual(await tab.evaluate(() => window.joined), { ok: true, value: 'window' });
  await until(tab, () => events.some((e) => e.name === 'connecting'));
  await env.emit(key, 'screen');
  await env.end(key, { status: 24, iserror: false });
  await until(tab, () => events.some((e) => e.name === 'sessionEnded'));

  const events = await tab.evaluate(() => events);
  assert.deepEqual(names(events), ['lookupWaiting:agent', 'lookupWaiting:agent', 'lookupFound:agent', 'viewerOpened:agent',
    'connecting:screenshare', 'screen:screenshare', 'sessionEnded:screenshare']);
  assert.equal(events[0].data.ssnkey, key);
  assert.equal(events[0].data.cancel, 'ƒ', 'lookupWaiting carries cancel()');
  const waited = events[1].at - events[0].at;
  assert.ok(waited >= 2900 && waited < 4500, `the second attempt comes 3 s after the first (${waited} ms)`);
  assert.equal(events[4].data.ssnkey, key);
  assert.equal(events[4].data.agentinfo.partneruserid, 'agent 7/ü');
  assert.deepEqual(events[5].data.display, { width: 375, height: 812 });
  assert.deepEqual(events[6].data, { iserror: false, status: 24, service: 'screenshare' });
  await session.close();
  assert.deepEqual(problems, []);
});

test('the agent closes the viewer window: viewerClosed fires once', async () => {
  const key = '1003';
  await env.startSession(key, 'C');
  const session = await env.open(env.page('close.html', consolePage(env, { credentials })));
  const { tab, problems } = session;
  const popup = session.waitForWindow();
  await tab.evaluate((k) => outcome(GLANCE.Agent.joinSession(k)), key);
  const viewer = await popup;
  await until(tab, () => events.some((e) => e.name === 'connecting'));
  await viewer.close();
  await until(tab, () => events.some((e) => e.name === 'viewerClosed'));
  await tab.sleep(1500); // three more rounds of the closed-window watcher
  assert.equal(await eventCount(tab, 'viewerClosed', 'agent'), 1);
  await session.close();
  assert.deepEqual(problems, []);
});

test('POST mode: the viewer gets the credentials in a form body, never in any URL the browser loads', async () => {
  const key = '1004';
  await env.startSession(key, 'C');
  const session = await env.open(env.page('post.html', consolePage(env, { credentials })));
  const { tab, problems } = session;
  const popup = session.waitForWindow();
  assert.equal((await tab.evaluate((k) => outcome(GLANCE.Agent.joinSession(k)), key)).ok, true);
  const viewer = await popup;
  await until(tab, () => events.some((e) => e.name === 'connecting'));
  assert.equal(await viewer.text('#key'), key, 'the viewer shows the session');

  const requests = await session.requests();
  const views = requests.filter((request) => request.url.includes('/agentjoin/AgentView.aspx'));
  assert.equal(views.length, 1);
  assert.equal(views[0].method, 'POST');
  const form = new URLSearchParams(views[0].body);
  assert.equal(form.get('LOGINKEY'), credentials.loginkey);
  assert.equal(form.get('PARTNERUSERID'), credentials.partneruserid);
  assert.equal(form.get('SESSIONKEY'), key);
  const signature = credentials.loginkey.split('$')[3];
  const leaks = requests.filter((request) => request.url.includes(signature) || decodeURIComponent(request.url).includes(signature));
  assert.ok(requests.length >= 4, 'the console, the script, the lookup, the viewer and its polls were seen');
  assert.deepEqual(leaks.map((request) => request.url), [], 'no URL carries the login key');
  await session.close();
  assert.deepEqual(problems, []);
});

test('iframe mode: the viewer loads in the page and its events reach the console', async () => {
  const key = '1005';
  await env.startSession(key, 'V');
  const url = env.page('iframe.html', consolePage(env, { credentials, body: '<iframe id="viewer" style="width:600px;height:400px"></iframe>' }));
  const session = await env.open(url);
  const { tab, problems } = session;
  const joined = await tab.evaluate((k) => outcome(GLANCE.Agent.joinSession(k, { iframe: 'viewer' })
    .then((viewer) => viewer === document.getElementById('viewer').contentWindow)), key);
  assert.deepEqual(joined, { ok: true, value: true }, "the promise resolves to the iframe's window");
  await until(tab, () => events.some((e) => e.name === 'connecting'));
  await env.emit(key, 'videoStarted');
  await until(tab, () => events.some((e) => e.name === 'videoStarted'));
  const events = await tab.evaluate(() => events);
  assert.deepEqual(names(events).slice(2), ['viewerOpened:agent', 'connecting:screenshare', 'videoStarted:video']);
  assert.equal(events[3].data.calltype, 'V');
  assert.equal(events[4].data.options.framerate, 15);
  assert.equal(await tab.frameText('#viewer', '#key'), key);
  await session.close();
  assert.deepEqual(problems, []);
});

test('openViewer and openAgentJoinURL open the viewer without a waiting lookup', async () => {
  const key = '1006';
  await env.startSession(key, 'C');
  const session = await env.open(env.page('open.html', consolePage(env, { credentials })));
  const { tab, problems } = session;
  let popup = session.waitForWindow();
  assert.deepEqual(await tab.evaluate((k) => outcome(GLANCE.Agent.openViewer(k)), key), { ok: true, value: 'window' });
  await popup;
  await until(tab, () => events.some((e) => e.name === 'connecting'));
  const lookups = (await session.requests()).filter((request) => request.url.includes('LookupPartnerSession2'));
  assert.equal(lookups.length, 0, 'openViewer does not look the session up');

  const found = await tab.evaluate((k) => GLANCE.Agent.lookupSession(k, false), key);
  popup = session.waitForWindow();
  const opened = await tab.evaluate((joinUrl) => outcome(GLANCE.Agent.openAgentJoinURL(joinUrl)), found.agentjoinurl);
  assert.deepEqual(opened, { ok: true, value: 'window' });
  const viewer = await popup;
  await until(tab, () => events.filter((e) => e.name === 'connecting').length === 2);
  assert.equal(await viewer.text('#key'), key);
  assert.deepEqual(names(await tab.evaluate(() => events)), ['viewerOpened:agent', 'connecting:cobrowse',
    'lookupWaiting:agent', 'lookupFound:agent', 'viewerOpened:agent', 'connecting:cobrowse']);
  await session.close();
  assert.deepEqual(problems, []);
});
