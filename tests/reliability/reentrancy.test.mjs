// Re-entrancy: from inside every event the library fires (and a viewer event), a listener calls every
// API function. Nothing may trap, throw anything but a coded Error, or leave a promise unsettled, and
// the agent must still join a session afterwards.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { chromiumOnly, consolePage, isNetworkMessage, start } from '../e2e/harness.mjs';
import { report } from './report.mjs';

let env;
before(async () => { env = await start(); });
after(() => env?.stop());

const LIBRARY_EVENTS = ['lookupWaiting', 'lookupFound', 'lookupFailed', 'lookupCanceled', 'popupblocked',
  'iframeblocked', 'viewerOpened', 'viewerClosed'];

// The page's side: the re-entrant listener and the steps that make each event happen.
const PAGE = `<script>
  const agent = GLANCE.Agent;
  const noop = () => {};
  window.reentered = {};   // event name -> how many API calls were made inside it
  window.faults = [];      // anything but a coded Error
  window.pending = [];     // every promise the re-entrant calls returned
  window.viewers = [];
  const coded = (error) => error instanceof Error && typeof error.code === 'string' && error.code !== '';
  const frame = () => {
    const element = document.createElement('iframe');
    document.body.append(element);
    return element;
  };
  function reenterEvery(name, data) {
    if (window.reentered[name] !== undefined) return; // once per event name keeps the fan-out finite
    window.reentered[name] = 0;
    const calls = {
      authenticate: () => agent.authenticate(window.credentials),
      logout: () => { agent.logout(); agent.authenticate(window.credentials); },
      lookupSession: () => agent.lookupSession('8001', false),
      lookupNotRunning: () => agent.lookupSession('8999', false),
      cancelLookup: () => agent.cancelLookup(),
      joinSession: () => agent.joinSession('8001', { iframe: frame() }),
      openViewer: () => agent.openViewer('8001', { iframe: frame() }),
      openAgentJoinURL: () => agent.openAgentJoinURL(window.joinUrl, { iframe: frame() }),
      close: () => agent.close(window.viewers.at(-1)),
      addEventListener: () => agent.addEventListener('lookupFound', noop),
      removeEventListener: () => agent.removeEventListener('lookupFound', noop),
      addEventListenerAll: () => agent.addEventListenerAll(noop),
      removeEventListenerAll: () => agent.removeEventListenerAll(noop),
      webserver: () => { agent.webserver = agent.webserver; },
      requestTimeout: () => { agent.requestTimeout = agent.requestTimeout; },
      postParametersToViewer: () => { agent.postParametersToViewer = agent.postParametersToViewer; },
      cancelFromEvent: () => data && typeof data.cancel === 'function' && data.cancel(),
      closeFromEvent: () => data && typeof data.close === 'function' && data.close(),
    };
    for (const [call, run] of Object.entries(calls)) {
      window.reentered[name] += 1;
      try {
        const result = run();
        if (result instanceof Promise) {
          window.pending.push(result.then((viewer) => { if (viewer && viewer !== true) window.viewers.push(viewer); },
            (error) => { if (!coded(error)) window.faults.push(name + '/' + call + ' rejected ' + error); }));
        }
      } catch (error) {
        if (!coded(error)) window.faults.push(name + '/' + call + ' threw ' + error);
      }
    }
  }
  agent.addEventListenerAll(reenterEvery);
  const settle = (promise) => promise.then((value) => value, (error) => error.code);
  window.steps = {
    join: () => settle(agent.joinSession('8001', { iframe: frame() }).then((viewer) => { window.viewers.push(viewer); return 'joined'; })),
    close: () => { agent.close(window.viewers[0]); return 'closed'; },
    cancel: () => { const waiting = settle(agent.joinSession('8002')); agent.cancelLookup(); return waiting; },
    fail: () => settle(agent.lookupSession('8001', false)),
    popupBlocked: () => {
      const open = window.open;
      window.open = () => null; // what a popup blocker does
      // reuse: false, or the viewer already open for the session would be focused instead.
      return settle(agent.joinSession('8001', { reuse: false })).finally(() => { window.open = open; });
    },
    iframeBlocked: () => settle(agent.joinSession('8001', { iframe: document.createElement('iframe'), reuse: false })),
    settleAll: () => {
      const bound = new Promise((resolve) => setTimeout(resolve, 20000, 'unsettled'));
      return Promise.race([Promise.all(window.pending).then(() => 'settled'), bound]);
    },
  };
</script>`;

test('every API function called from inside every library event and a viewer event', async () => {
  await env.startSession('8001');
  const credentials = await env.credentials();
  const { tab, context, problems } = await chromiumOnly(env.open(env.page('reentrancy.html', consolePage(env, { credentials, body: PAGE }))));
  await tab.evaluate((creds) => {
    window.credentials = creds;
    window.joinUrl = `${GLANCE.Agent.webserver}/agentjoin/AgentView.aspx?SessionKey=8001`;
  }, credentials);
  const outcomes = {};
  for (const step of ['join', 'close', 'cancel']) outcomes[step] = await tab.evaluate((name) => steps[name](), step);
  await env.faults({ lookup: 'garbage' });
  outcomes.fail = await tab.evaluate(() => steps.fail());
  await env.faults({ lookup: 'none' });
  for (const step of ['popupBlocked', 'iframeBlocked']) outcomes[step] = await tab.evaluate((name) => steps[name](), step);
  await tab.waitForFunction(() => window.reentered.connecting !== undefined, undefined, { timeout: 10000 });
  const settled = await tab.evaluate(() => steps.settleAll());
  const { reentered, faults, pending } = await tab.evaluate(() => ({ ...window, pending: window.pending.length }));

  // Afterwards the agent still works: a fresh join in an iframe relays the viewer's first event.
  const after = await tab.evaluate(async () => {
    agent.removeEventListenerAll(reenterEvery);
    let connected;
    const heard = new Promise((resolve) => { connected = resolve; });
    agent.addEventListener('connecting', () => connected('connecting'));
    await agent.joinSession('8001', { iframe: document.createElement('iframe'), reuse: false }).catch(() => {});
    const frame = document.createElement('iframe');
    document.body.append(frame);
    await agent.joinSession('8001', { iframe: frame, reuse: false });
    return Promise.race([heard, new Promise((resolve) => setTimeout(resolve, 10000, 'silent'))]);
  });
  await context.close();

  report('reentrancy', { events: Object.keys(reentered).length, calls: Object.values(reentered).reduce((a, b) => a + b, 0),
    promises: pending, faults });
  assert.deepEqual(faults, []);
  assert.equal(settled, 'settled', 'every promise a re-entrant call returned has settled');
  for (const name of [...LIBRARY_EVENTS, 'connecting']) assert.ok(reentered[name] > 0, `re-entered from ${name}`);
  assert.deepEqual({ popupBlocked: outcomes.popupBlocked, iframeBlocked: outcomes.iframeBlocked, cancel: outcomes.cancel },
    { popupBlocked: 'popup_blocked', iframeBlocked: 'iframe_blocked', cancel: 'canceled' });
  assert.equal(after, 'connecting');
  assert.deepEqual(problems.filter((problem) => !isNetworkMessage(problem)), []);
});
