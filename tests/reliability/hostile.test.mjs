// Every API function and property of the shipped script-tag build, called with hostile arguments in
// Chromium against the local service. Each call must throw or reject an Error with a `code` (or accept
// a value that happens to be valid), never trap the module or hang, and a normal lookup must work
// right after each hostile value.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { chromiumOnly, isNetworkMessage, root, start } from '../e2e/harness.mjs';
import { report } from './report.mjs';

let env;
before(async () => { env = await start(); });
after(() => env?.stop());

// Runs in the page: calls each shape with hostile value number `index` and classifies what happened.
const HOSTILE_CALLS = async ([index, key]) => {
  const value = hostileValues()[index];
  const agent = GLANCE.Agent;
  const shapes = {
    'authenticate(v)': () => agent.authenticate(value),
    'logout(v)': () => agent.logout(value),
    'addEventListener(v, v)': () => agent.addEventListener(value, value),
    'addEventListener(name, v)': () => agent.addEventListener('x', value),
    'addEventListenerAll(v)': () => agent.addEventListenerAll(value),
    'removeEventListener(v, v)': () => agent.removeEventListener(value, value),
    'removeEventListenerAll(v)': () => agent.removeEventListenerAll(value),
    'close(v)': () => agent.close(value),
    'cancelLookup(v)': () => agent.cancelLookup(value),
    'lookupSession(v, v)': () => agent.lookupSession(value, value),
    'lookupSession(key, v)': () => agent.lookupSession(key, value),
    'joinSession(v, v)': () => agent.joinSession(value, value),
    'joinSession(key, v)': () => agent.joinSession(key, value),
    'openViewer(v, v)': () => agent.openViewer(value, value),
    'openViewer(key, v)': () => agent.openViewer(key, value),
    'openAgentJoinURL(v, v)': () => agent.openAgentJoinURL(value, value),
    'lookupSession(key, {signal: v})': () => agent.lookupSession(key, { signal: value }),
    'joinSession(key, {signal: v})': () => agent.joinSession(key, { signal: value }),
    'once(v, {signal: aborted})': () => agent.once(value, { signal: AbortSignal.abort() }),
    'inSession(v)': () => agent.inSession(value),
    'inSession(key, {signal: v})': () => agent.inSession(key, { signal: value }),
    'authenticate({idpusername: v})': () => agent.authenticate({ idpusername: value }),
    'authenticate({getLoginKey: v})': () => agent.authenticate({ getLoginKey: value }),
    // Each setter is put back at once, so no request ever goes to a hostile webserver.
    'webserver = v': () => { const old = agent.webserver; try { agent.webserver = value; } finally { agent.webserver = old; } },
    'requestTimeout = v': () => { const old = agent.requestTimeout; try { agent.requestTimeout = value; } finally { agent.requestTimeout = old; } },
    'postParametersToViewer = v': () => { agent.postParametersToViewer = value; agent.postParametersToViewer = true; },
    // Presence: no visitor is ever on the site here, so a connect that takes its arguments waits; it is
    // ended (a timeout, or presenceDisconnect) and must then reject with a code.
    'presenceConnect(v, {timeout})': () => agent.presenceConnect(value, { timeout: 300 }),
    'presenceConnect(id, v)': () => disconnectSoon(agent.presenceConnect('hostile-visitor', value)),
    'presenceConnect(id, {signal: v})': () => disconnectSoon(agent.presenceConnect('hostile-visitor', { signal: value })),
    'presenceStartSession(v, v, v)': () => agent.presenceStartSession(value, value, value),
    'presenceStartSession(key, v)': () => agent.presenceStartSession(key, value),
    'presenceStartSession(key, {}, v)': () => agent.presenceStartSession(key, {}, value),
    'presenceDisconnect(v)': () => agent.presenceDisconnect(value),
    'leaveSession(v)': () => agent.leaveSession(value),
    'end(v)': () => agent.end(value), // last: it closes the viewers the shapes above opened
  };
  function disconnectSoon(promise) {
    setTimeout(() => agent.presenceDisconnect(), 300);
    return promise;
  }
  // The shapes that may accept some of these values, and which; any other acceptance is a defect.
  const isFunction = typeof value === 'function';
  const isParams = value === undefined || value === null || typeof value === 'object' || isFunction;
  const mayAccept = {
    'logout(v)': true, // takes no argument
    'cancelLookup(v)': true, // takes no argument
    'postParametersToViewer = v': true, // any value, read as true or false
    'addEventListener(name, v)': isFunction,
    'addEventListenerAll(v)': isFunction,
    'removeEventListenerAll(v)': isFunction,
    'close(v)': isParams && value !== undefined && value !== null, // closing what is not a viewer does nothing
    'openViewer(key, v)': isParams, // params with none of the known fields
    // No key (the agent's sessions), or a key: the service answers.
    'inSession(v)': value == null || typeof value === 'string' || typeof value === 'number',
    'inSession(key, {signal: v})': value == null, // no signal
    // No signal, and openViewer(key, v) above opened the session's viewer: the join focuses it.
    'joinSession(key, {signal: v})': value == null,
    // A name the local identity provider signs in (it signs in any agent name).
    'authenticate({idpusername: v})': (typeof value === 'string' && value.length <= 256) || typeof value === 'number',
    'authenticate({getLoginKey: v})': isFunction, // kept, and asked when a call needs a key
    'presenceDisconnect(v)': true, // takes no argument
    'end(v)': true, // takes no argument
  };
  const coded = (error) => error instanceof Error && typeof error.code === 'string' && error.code !== '';
  const describe = (error) => `${error && error.name}: ${String(error && error.message).slice(0, 120)}`;
  const outcomes = {};
  for (const [shape, call] of Object.entries(shapes)) {
    try {
      const result = call();
      if (result instanceof Promise) {
        const hang = new Promise((resolve) => setTimeout(resolve, 5000, 'hang'));
        const settled = await Promise.race([result.then(() => 'accepted', (error) => (coded(error) ? 'refused' : describe(error))), hang]);
        outcomes[shape] = settled;
      } else {
        outcomes[shape] = 'accepted';
      }
    } catch (error) {
      outcomes[shape] = coded(error) ? 'refused' : describe(error);
    }
  }
  // Viewers a valid-looking value opened are closed again; the agent is reset for the next value.
  for (const frame of document.querySelectorAll('iframe')) frame.remove();
  try { agent.removeEventListenerAll(value); } catch { /* not a function: nothing was added */ }
  for (const [shape, outcome] of Object.entries(outcomes)) {
    if (outcome === 'accepted' && !mayAccept[shape]) outcomes[shape] = 'accepted a value it should refuse';
  }
  return outcomes;
};

test('hostile arguments to every function and property: coded Errors, no trap, no hang, and the agent still works', async () => {
  await env.startSession('7001');
  const credentials = await env.credentials();
  env.page('doubles.js', readFileSync(join(root, 'tests/web/doubles.js')), { 'Content-Type': 'text/javascript' });
  const url = env.page('hostile.html', `<!doctype html><meta charset="utf-8">
    <script src="/dist/script/glance-agent.js"></script>
    <script type="module">
      import { hostileValues } from './doubles.js';
      window.hostileValues = hostileValues;
      window.count = hostileValues().length;
    </script>`);
  const { tab, context, problems } = await chromiumOnly(env.open(url));
  await tab.waitForFunction(() => window.count);
  // Against the loaded module: before it loads, synchronous calls are queued and report their errors
  // on the console instead of throwing (tests/browser covers that).
  await tab.evaluate(() => GLANCE.Agent.ready.then(() => true));
  const count = await tab.evaluate(() => window.count);
  const restore = ([webserver, creds]) => {
    GLANCE.Agent.webserver = webserver;
    GLANCE.Agent.requestTimeout = 10000;
    GLANCE.Agent.authenticate(creds);
  };

  const tally = { tried: 0, refused: 0, accepted: 0, defects: [] };
  for (let index = 0; index < count; index += 1) {
    await tab.evaluate(restore, [env.webserver, credentials]);
    await env.faults({ lookup: 'garbage' }); // lookups that get through fail at once instead of waiting 45 s
    const outcomes = await tab.evaluate(HOSTILE_CALLS, [index, '7001']);
    // Viewer windows a valid-looking value opened are closed, so the next value's join is not a reuse.
    for (const page of context.pages()) if (page !== tab) await page.close();
    for (const [shape, outcome] of Object.entries(outcomes)) {
      tally.tried += 1;
      if (outcome === 'refused' || outcome === 'accepted') tally[outcome] += 1;
      else tally.defects.push(`value ${index}, ${shape}: ${outcome}`);
    }
    await env.faults({ lookup: 'none' });
    await tab.evaluate(restore, [env.webserver, credentials]);
    const found = await tab.evaluate(() => GLANCE.Agent.lookupSession('7001', false).then((r) => r.passcode, (e) => `failed: ${e.code}`));
    assert.equal(found, '7001', `a normal lookup works after hostile value ${index}`);
  }
  await context.close();
  report('hostile', { values: count, tried: tally.tried, held: tally.tried - tally.defects.length,
    refused: tally.refused, accepted: tally.accepted, defects: tally.defects });
  assert.deepEqual(tally.defects, []);
  assert.ok(tally.tried >= 150, `${tally.tried} hostile calls`);
  assert.deepEqual(problems.filter((problem) => !isNetworkMessage(problem)), []);
});
