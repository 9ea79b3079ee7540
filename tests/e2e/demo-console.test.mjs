// The demo console (www/, what `make demo` serves) driven as an agent would, against the local
// service; a screenshot mid-session is left at target/demo-console.png for people to look at.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { root, start, startService } from './harness.mjs';

let env;
before(async () => { env = await start(); });
after(() => env?.stop());

const consoleUrl = (key) => `${env.consoleOrigin}/?${new URLSearchParams({ webserver: env.webserver, key })}`;

test('the demo console signs in by itself, joins, shows the state and a live event log', async () => {
  const key = '9001';
  await env.startSession(key, 'G');
  const session = await env.open(consoleUrl(key));
  const { tab, problems } = session;
  await tab.waitFor('#credentials-status', { hasText: 'agent 7/ü' });
  assert.equal(await tab.value('#partnerid'), '20541');
  assert.match(await tab.value('#loginkey'), /^\$1\$\d{10}\$[\w-]{43}$/, 'the dev service minted a key');
  assert.equal(await tab.attribute('#visitor-link', 'href'), `${env.webserver}/visitor?key=${key}`);

  await tab.check('#use-iframe');
  await tab.click('#join');
  await tab.waitFor('#state[data-state="in-session"]');
  await env.emit(key, 'screen');
  await env.emit(key, 'videoStarted', undefined, 'video');
  await tab.waitFor('#event-log [data-event="videoStarted"][data-service="video"]');

  mkdirSync(join(root, 'target'), { recursive: true });
  await tab.screenshot(join(root, 'target/demo-console.png'));
  for (const selector of ['#state', '#session-key', '#join', '#viewer-frame', '#event-log', '#visitor-link', '#credentials-status']) {
    assert.equal(await tab.visible(selector), true, `${selector} is visible`);
  }
  const logged = await tab.evaluate(() => [...document.querySelectorAll('#event-log [data-event]')].map((row) => row.dataset.event));
  for (const name of ['lookupWaiting', 'lookupFound', 'viewerOpened', 'connecting', 'screen', 'videoStarted']) {
    assert.ok(logged.includes(name), `${name} is in the log`);
  }
  assert.equal(logged[0], 'videoStarted', 'newest first');
  assert.match(await tab.frameText('#viewer-frame', '#key'), new RegExp(key));

  await env.end(key, { status: 24, iserror: false });
  await tab.waitFor('#state[data-state="ended"]');
  await session.close();
  assert.deepEqual(problems, []);
});

test('the demo console, reloaded with a viewer window open, shows the session taken back', async () => {
  const key = '9003';
  await env.startSession(key, 'C');
  const session = await env.open(consoleUrl(key));
  const { tab, problems } = session;
  await tab.waitFor('#credentials-status', { hasText: 'agent 7/ü' });
  const popup = session.waitForWindow();
  await tab.click('#join');
  await popup;
  await tab.waitFor('#state[data-state="in-session"]');

  await tab.reload();
  await tab.waitFor('#state-detail', { hasText: `the viewer of session ${key}` });
  assert.equal(await tab.attribute('#state', 'data-state'), 'viewer-open');
  assert.match(await tab.text('#state-detail'), /Taken back after the reload: the viewer of session 9003 \(ssnid [^)]+\) is still open/);
  await tab.waitFor('#event-log [data-event="viewerResumed"]');
  assert.equal(await tab.visible('#close-viewer'), true, 'the viewer can be closed from the console');
  await env.emit(key, 'navigate', { url: 'https://shop.example/resumed' });
  await tab.waitFor('#event-log [data-event="navigate"]');
  await tab.click('#close-viewer');
  await tab.waitFor('#state[data-state="viewer-closed"]');
  await session.close();
  assert.deepEqual(problems, []);
});

test('the demo console counts down a waiting lookup and shows a cancel', async () => {
  const session = await env.open(consoleUrl('9002'));
  const { tab, problems } = session;
  await tab.waitFor('#credentials-status', { hasText: 'agent 7/ü' });
  await tab.click('#join');
  await tab.waitFor('#state[data-state="waiting"]');
  await tab.sleep(1200);
  const seconds = Number((await tab.text('#countdown')).match(/\d+/)[0]);
  assert.ok(seconds >= 40 && seconds <= 44, `the countdown shows the lookup window (${seconds} s left)`);
  await tab.click('#cancel');
  await tab.waitFor('#state[data-state="canceled"]');
  await session.close();
  assert.deepEqual(problems, []);
});

test('the demo as `make demo` serves it: the service\'s own console origin, its config, a strict CSP', async () => {
  // The service started as `make demo` starts it, with its console on a port of its own.
  const { child: service, urls: [webserver, consoleUrl] } =
    await startService(['--root', root, '--port', '0', '--console-port', '0'], ['service', 'console']);
  try {
    const page = await fetch(consoleUrl);
    assert.match(page.headers.get('content-security-policy'), /script-src 'self' 'wasm-unsafe-eval'/);
    await fetch(`${webserver}/visitor/api/sessions`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ key: '1234', calltype: 'C' }) });

    const session = await env.open(consoleUrl);
  const { tab, problems } = session;
    await tab.waitFor('#credentials-status', { hasText: 'agent-7' });
    assert.equal(await tab.value('#webserver'), webserver, 'found through demo-config.json');
    await tab.fill('#session-key', '1234');
    await tab.check('#use-iframe');
    await tab.click('#join');
    await tab.waitFor('#state[data-state="in-session"]');
    await session.close();
    assert.deepEqual(problems, [], 'no CSP violation, no page error');
  } finally {
    service.kill();
  }
});

test('the demo console\'s Presence mode: watch a visitor, see them on the site, Start session, the viewer opens', async () => {
  const visitorid = 'demo-visitor-1';
  const session = await env.open(`${env.consoleOrigin}/?${new URLSearchParams({ webserver: env.webserver, visitorid })}`);
  const { tab, problems } = session;
  await tab.waitFor('#credentials-status', { hasText: 'agent 7/ü' });
  assert.equal(await tab.visible('#presence-form'), true, '?visitorid= opens the Presence mode');
  assert.equal(await tab.attribute('#visitor-link', 'href'), `${env.webserver}/visitor?visitorid=${visitorid}`);
  await tab.click('#watch');
  await tab.waitFor('#presence[data-state="offline"]');
  assert.equal(await tab.disabled('#presence-start'), true, 'no Start session while the visitor is away');

  // The simulator, as the link opens it: on the site as that visitor.
  const visitor = await env.visitor(await tab.attribute('#visitor-link', 'href'));
  const simulator = visitor.tab;
  await tab.waitFor('#presence[data-state="online"]');
  assert.match(await tab.text('#presence-page'), /^https:\/\/shop\.example\//);
  await simulator.click('#presence-visibility');
  await tab.waitFor('#presence[data-state="hidden"]');
  await simulator.click('#presence-visibility');
  await tab.waitFor('#presence[data-state="online"]');

  const viewer = session.waitForWindow();
  await tab.click('#presence-start');
  await tab.waitFor('#state[data-state="asking"]');
  await simulator.waitFor('#terms[open]');
  await simulator.click('#terms-accept');
  const opened = await viewer;
  await opened.waitFor('#key');
  await tab.waitFor('#state[data-state="in-session"]');
  for (const name of ['visitorConnected', 'visitorData', 'presenceVisibility', 'presenceOnTerms', 'presenceSessionStart', 'viewerOpened']) {
    await tab.waitFor(`#event-log [data-event="${name}"]`);
  }
  mkdirSync(join(root, 'target'), { recursive: true });
  await tab.screenshot(join(root, 'target/demo-console-presence.png'));

  await tab.click('#presence-stop');
  await tab.waitFor('#presence[data-state="idle"]');
  await session.close();
  await visitor.close();
  assert.deepEqual(problems, []);
});
