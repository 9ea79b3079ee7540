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
  const { tab, context, problems } = await env.open(consoleUrl(key));
  await tab.locator('#credentials-status').filter({ hasText: 'agent 7/ü' }).waitFor();
  assert.equal(await tab.inputValue('#partnerid'), '20541');
  assert.match(await tab.inputValue('#loginkey'), /^\$1\$\d{10}\$[\w-]{43}$/, 'the dev service minted a key');
  assert.equal(await tab.getAttribute('#visitor-link', 'href'), `${env.webserver}/visitor?key=${key}`);

  await tab.check('#use-iframe');
  await tab.click('#join');
  await tab.locator('#state[data-state="in-session"]').waitFor();
  await env.emit(key, 'screen');
  await env.emit(key, 'videoStarted', undefined, 'video');
  await tab.locator('#event-log [data-event="videoStarted"][data-service="video"]').waitFor();

  mkdirSync(join(root, 'target'), { recursive: true });
  await tab.screenshot({ path: join(root, 'target/demo-console.png') });
  for (const selector of ['#state', '#session-key', '#join', '#viewer-frame', '#event-log', '#visitor-link', '#credentials-status']) {
    assert.equal(await tab.locator(selector).isVisible(), true, `${selector} is visible`);
  }
  const logged = await tab.locator('#event-log [data-event]').evaluateAll((rows) => rows.map((row) => row.dataset.event));
  for (const name of ['lookupWaiting', 'lookupFound', 'viewerOpened', 'connecting', 'screen', 'videoStarted']) {
    assert.ok(logged.includes(name), `${name} is in the log`);
  }
  assert.equal(logged[0], 'videoStarted', 'newest first');
  assert.match(await tab.frameLocator('#viewer-frame').locator('#key').textContent(), new RegExp(key));

  await env.end(key, { status: 24, iserror: false });
  await tab.locator('#state[data-state="ended"]').waitFor();
  await context.close();
  assert.deepEqual(problems, []);
});

test('the demo console counts down a waiting lookup and shows a cancel', async () => {
  const { tab, context, problems } = await env.open(consoleUrl('9002'));
  await tab.locator('#credentials-status').filter({ hasText: 'agent 7/ü' }).waitFor();
  await tab.click('#join');
  await tab.locator('#state[data-state="waiting"]').waitFor();
  await tab.waitForTimeout(1200);
  const seconds = Number((await tab.textContent('#countdown')).match(/\d+/)[0]);
  assert.ok(seconds >= 40 && seconds <= 44, `the countdown shows the lookup window (${seconds} s left)`);
  await tab.click('#cancel');
  await tab.locator('#state[data-state="canceled"]').waitFor();
  await context.close();
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

    const { tab, context, problems } = await env.open(consoleUrl);
    await tab.locator('#credentials-status').filter({ hasText: 'agent-7' }).waitFor();
    assert.equal(await tab.inputValue('#webserver'), webserver, 'found through demo-config.json');
    await tab.fill('#session-key', '1234');
    await tab.check('#use-iframe');
    await tab.click('#join');
    await tab.locator('#state[data-state="in-session"]').waitFor();
    await context.close();
    assert.deepEqual(problems, [], 'no CSP violation, no page error');
  } finally {
    service.kill();
  }
});

test('the demo console\'s Presence mode: watch a visitor, see them on the site, Start session, the viewer opens', async () => {
  const visitorid = 'demo-visitor-1';
  const { tab, context, problems } = await env.open(
    `${env.consoleOrigin}/?${new URLSearchParams({ webserver: env.webserver, visitorid })}`);
  await tab.locator('#credentials-status').filter({ hasText: 'agent 7/ü' }).waitFor();
  assert.equal(await tab.locator('#presence-form').isVisible(), true, '?visitorid= opens the Presence mode');
  assert.equal(await tab.getAttribute('#visitor-link', 'href'), `${env.webserver}/visitor?visitorid=${visitorid}`);
  await tab.click('#watch');
  await tab.locator('#presence[data-state="offline"]').waitFor();
  assert.equal(await tab.isDisabled('#presence-start'), true, 'no Start session while the visitor is away');

  // The simulator, as the link opens it: on the site as that visitor.
  const simulator = await context.newPage();
  await simulator.goto(await tab.getAttribute('#visitor-link', 'href'));
  await tab.locator('#presence[data-state="online"]').waitFor();
  assert.match(await tab.textContent('#presence-page'), /^https:\/\/shop\.example\//);
  await simulator.click('#presence-visibility');
  await tab.locator('#presence[data-state="hidden"]').waitFor();
  await simulator.click('#presence-visibility');
  await tab.locator('#presence[data-state="online"]').waitFor();

  const viewer = context.waitForEvent('page');
  await tab.click('#presence-start');
  await tab.locator('#state[data-state="asking"]').waitFor();
  await simulator.locator('#terms[open]').waitFor();
  await simulator.click('#terms-accept');
  const opened = await viewer;
  await opened.locator('#key').waitFor();
  await tab.locator('#state[data-state="in-session"]').waitFor();
  for (const name of ['visitorConnected', 'visitorData', 'presenceVisibility', 'presenceOnTerms', 'presenceSessionStart', 'viewerOpened']) {
    await tab.locator(`#event-log [data-event="${name}"]`).first().waitFor();
  }
  mkdirSync(join(root, 'target'), { recursive: true });
  await tab.screenshot({ path: join(root, 'target/demo-console-presence.png') });

  await tab.click('#presence-stop');
  await tab.locator('#presence[data-state="idle"]').waitFor();
  await context.close();
  assert.deepEqual(problems, []);
});
