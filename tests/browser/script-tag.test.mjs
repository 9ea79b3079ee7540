// The shipped builds in the engine under test (ENGINE): the classic script tag (dist/script) and the npm
// ES module (dist/npm), against a local stand-in for the Glance web server on another origin.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { FOUND, loginKey, start } from './harness.mjs';

let env;
before(async () => { env = await start(); });
after(async () => { await env?.stop(); });

const credentials = () => ({ loginkey: loginKey(), partnerid: 20541, partneruserid: 'agent 7' });

test('the script tag installs GLANCE.Agent synchronously and queues calls made before the module is ready', async () => {
  env.glance.answer = null;
  env.glance.requests.length = 0;
  const url = env.page('sync.html', `<!doctype html>
    <script>window.GLANCE = { other: 42 };</script>
    <script src="/dist/script/glance-agent.js"></script>
    <script>
      window.log = [];
      const agent = GLANCE.Agent;
      window.complete = ['authenticate', 'lookupSession', 'joinSession', 'openViewer', 'openAgentJoinURL',
        'cancelLookup', 'addEventListener', 'addEventListenerAll', 'removeEventListener', 'close', 'logout']
        .every((name) => typeof agent[name] === 'function');
      agent.addEventListenerAll((name, data) => log.push(name + ':' + data.service));
      agent.webserver = ${JSON.stringify(env.glance.origin)};
      window.webserverBeforeReady = agent.webserver;
      agent.authenticate(${JSON.stringify(credentials())});
      window.lookup = agent.lookupSession('1234', false);
      window.returnedPromise = window.lookup instanceof Promise;
    </script>`);
  const session = await env.open(url);
  const { tab, problems } = session;
  const result = await tab.evaluate(() => window.lookup);
  const state = await tab.evaluate(() => ({
    complete: window.complete, returnedPromise: window.returnedPromise, other: GLANCE.other,
    webserverBeforeReady: window.webserverBeforeReady, webserver: GLANCE.Agent.webserver, log: window.log,
  }));
  await session.close();

  assert.equal(state.complete, true, 'every method is there when the tag finishes');
  assert.equal(state.returnedPromise, true, 'lookupSession returned a promise before the module was ready');
  assert.equal(state.other, 42, 'other GLANCE members are kept');
  assert.equal(state.webserverBeforeReady, env.glance.origin);
  assert.equal(state.webserver, env.glance.origin);
  assert.deepEqual(state.log, ['lookupWaiting:agent', 'lookupFound:agent'], 'the listener added on the next line heard everything');
  assert.equal(result.agentjoinurl, `${env.glance.origin}/agentjoin/AgentView.aspx?SessionKey=1234&ssnid=20541.1234.1`);
  const [lookup] = env.glance.requests;
  assert.equal(lookup.method, 'POST');
  assert.equal(lookup.origin, env.consoleOrigin, 'a cross-origin request, as in production');
  assert.match(lookup.contentType, /^application\/x-www-form-urlencoded/);
  assert.match(lookup.body, /^partnerid=20541&partneruserid=agent\+7&loginkey=%241%24\d+%24[\w-]{43}&ssnkey=1234$/);
  assert.deepEqual(problems, []);
});

test('a module that cannot load rejects every queued promise with load_failed, without page errors', async () => {
  // The script served where no .wasm sits beside it.
  env.page('script-only/glance-agent.js', readFileSync(new URL('../../dist/script/glance-agent.js', import.meta.url)), {}, 'text/javascript');
  const url = env.page('nowasm.html', `<!doctype html>
    <script src="/script-only/glance-agent.js"></script>
    <script>
      // The failure may already be known when this script runs (the 404 can arrive while the parser
      // yields): then this call throws load_failed at once instead of being queued.
      try { GLANCE.Agent.addEventListenerAll(() => {}); } catch (error) { window.early = error.code; }
      window.outcome = GLANCE.Agent.lookupSession('1234', false).then(
        () => 'resolved', (error) => error instanceof Error && error.code);
    </script>`);
  const session = await env.open(url);
  const { tab, problems } = session;
  const outcome = await tab.evaluate(() => window.outcome);
  const ready = await tab.evaluate(() => GLANCE.Agent.ready.then(() => 'ready', (error) => error.code));
  const later = await tab.evaluate(() => GLANCE.Agent.openViewer('1234').then(() => 'opened', (error) => error.code));
  const early = await tab.evaluate(() => window.early);
  await session.close();
  assert.equal(outcome, 'load_failed');
  assert.equal(ready, 'load_failed');
  assert.equal(later, 'load_failed', 'calls after the failure reject too');
  assert.ok([undefined, 'load_failed'].includes(early), 'queued, or refused with load_failed');
  assert.deepEqual(problems.filter((p) => p.startsWith('pageerror')), [], 'no uncaught errors or unhandled rejections');
});

test('joinSession opens the viewer by POST, relays its events, and fires viewerClosed once when the agent closes it', async () => {
  env.glance.answer = null;
  env.glance.requests.length = 0;
  const url = env.page('join.html', `<!doctype html>
    <script src="/dist/script/glance-agent.js"></script>
    <button id="join">Join</button>
    <script>
      window.log = [];
      GLANCE.Agent.addEventListenerAll((name, data) => log.push(name + ':' + data.service));
      GLANCE.Agent.webserver = ${JSON.stringify(env.glance.origin)};
      GLANCE.Agent.authenticate(${JSON.stringify(credentials())});
      document.getElementById('join').onclick = () => {
        window.joined = GLANCE.Agent.joinSession('1234').then((viewer) => viewer && typeof viewer.close === 'function');
      };
    </script>`);
  const session = await env.open(url);
  const { tab, problems } = session;
  const popupOpened = session.waitForWindow();
  await tab.click('#join');
  const popup = await popupOpened;
  assert.equal(await tab.evaluate(() => window.joined), true, 'resolves with the viewer window');
  await tab.waitForFunction(() => window.log.includes('connecting:cobrowse'), null, { timeout: 5000 });
  await popup.close();
  await tab.waitForFunction(() => window.log.includes('viewerClosed:agent'), null, { timeout: 5000 });
  await tab.sleep(800);
  const log = await tab.evaluate(() => window.log);
  const requests = (await session.requests()).map((request) => request.url);
  await session.close();

  assert.deepEqual(log, ['lookupWaiting:agent', 'lookupFound:agent', 'viewerOpened:agent', 'connecting:cobrowse', 'viewerClosed:agent']);
  const viewer = env.glance.requests.find((r) => r.url.startsWith('/agentjoin/AgentView.aspx'));
  assert.equal(viewer.method, 'POST');
  assert.equal(viewer.url, '/agentjoin/AgentView.aspx', 'the query moved into the form');
  const fields = new URLSearchParams(viewer.body);
  assert.equal(fields.get('SESSIONKEY'), '1234');
  assert.equal(fields.get('SSNID'), '20541.1234.1');
  assert.equal(fields.get('PARTNERID'), '20541');
  assert.equal(fields.get('PARTNERUSERID'), 'agent 7');
  assert.match(fields.get('LOGINKEY'), /^\$1\$/);
  for (const loaded of requests) assert.doesNotMatch(loaded, /loginkey|%241%24|\$1\$/i, `no credential in ${loaded}`);
  assert.deepEqual(problems, []);
});

test('the npm ES module works the same and leaves window alone until install()', async () => {
  env.glance.answer = { status: 200, body: FOUND(env.glance.origin) };
  const url = env.page('npm.html', `<!doctype html>
    <script type="module">
      import { Agent, install } from '/dist/npm/index.js';
      window.before = typeof window.GLANCE;
      const log = [];
      Agent.addEventListenerAll((name) => log.push(name));
      Agent.webserver = ${JSON.stringify(env.glance.origin)};
      Agent.authenticate(${JSON.stringify(credentials())});
      window.result = Agent.lookupSession('1234', false).then((r) => ({ url: r.agentjoinurl, log }));
      window.installed = () => install() === Agent && window.GLANCE.Agent === Agent;
    </script>`);
  const session = await env.open(url);
  const { tab, problems } = session;
  await tab.waitForFunction(() => window.result);
  const result = await tab.evaluate(() => window.result);
  const before = await tab.evaluate(() => window.before);
  const installed = await tab.evaluate(() => window.installed());
  await session.close();

  assert.equal(before, 'undefined', 'importing does not touch window');
  assert.equal(installed, true);
  assert.equal(result.url, `${env.glance.origin}/agentjoin/AgentView.aspx?SessionKey=1234&ssnid=20541.1234.1`);
  assert.deepEqual(result.log, ['lookupWaiting', 'lookupFound']);
  assert.deepEqual(problems, []);
});

test('the script tag works under Content-Security-Policy script-src self wasm-unsafe-eval', async () => {
  env.glance.answer = { status: 200, body: FOUND(env.glance.origin) };
  env.page('csp-test.js', `
    window.log = [];
    GLANCE.Agent.addEventListenerAll((name) => log.push(name));
    GLANCE.Agent.webserver = ${JSON.stringify(env.glance.origin)};
    GLANCE.Agent.authenticate(${JSON.stringify(credentials())});
    window.lookup = GLANCE.Agent.lookupSession('1234', false).then((r) => r.passcode);`, {}, 'text/javascript');
  const url = env.page('csp.html', `<!doctype html>
    <script src="/dist/script/glance-agent.js"></script>
    <script src="/csp-test.js"></script>`,
  { 'Content-Security-Policy': `script-src 'self' 'wasm-unsafe-eval'; connect-src 'self' ${env.glance.origin}` });
  const session = await env.open(url);
  const { tab, problems } = session;
  await tab.waitForFunction(() => window.lookup);
  const passcode = await tab.evaluate(() => window.lookup);
  await session.close();
  assert.equal(passcode, '1234');
  assert.deepEqual(problems, []);
});

test('a console that enforces Trusted Types joins: the answer is read in the module, not by a DOM sink', async () => {
  // Before: every lookup failed with service_error, because the XML answer went through
  // DOMParser.parseFromString, which `require-trusted-types-for 'script'` forbids.
  env.glance.answer = { status: 200, body: FOUND(env.glance.origin) };
  env.page('tt-test.js', `
    window.log = [];
    GLANCE.Agent.addEventListenerAll((name) => log.push(name));
    GLANCE.Agent.webserver = ${JSON.stringify(env.glance.origin)};
    GLANCE.Agent.authenticate(${JSON.stringify(credentials())});
    document.getElementById('join').onclick = () => {
      window.joined = GLANCE.Agent.joinSession('1234').then(
        (viewer) => typeof viewer.close, (error) => error.code + ': ' + error.message);
    };`, {}, 'text/javascript');
  const url = env.page('trusted-types.html', `<!doctype html>
    <script src="/dist/script/glance-agent.js"></script>
    <button id="join">Join</button>
    <script src="/tt-test.js"></script>`,
  { 'Content-Security-Policy': `require-trusted-types-for 'script'; trusted-types 'none'; `
    + `script-src 'self' 'wasm-unsafe-eval'; connect-src 'self' ${env.glance.origin}` });
  const session = await env.open(url);
  const { tab, problems } = session;
  // The engine has Trusted Types, or this test would prove nothing (trying a sink would be a violation).
  assert.equal(await tab.evaluate(() => typeof window.trustedTypes), 'object', 'the engine has Trusted Types');
  const popup = session.waitForWindow();
  await tab.click('#join');
  await popup;
  await tab.waitForFunction(() => window.joined);
  assert.equal(await tab.evaluate(() => window.joined), 'function', 'joined: the viewer window');
  await tab.waitForFunction(() => window.log.includes('connecting'), null, { timeout: 5000 });
  const log = await tab.evaluate(() => window.log);
  await session.close();
  assert.deepEqual(log, ['lookupWaiting', 'lookupFound', 'viewerOpened', 'connecting']);
  assert.deepEqual(problems, [], 'no Trusted Types violation on the console');
});
