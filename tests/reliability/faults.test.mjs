// Faults of the local service, a slow-drip body included: every promise settles within its bound,
// waiting lookups retry transient failures on the PROTOCOL.md section 2 schedule, refusals end at once,
// and nothing escapes as an unhandled rejection or page error.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { chromiumOnly, consolePage, isNetworkMessage, start } from '../e2e/harness.mjs';
import { report } from './report.mjs';

let env;
before(async () => { env = await start(); });
after(() => env?.stop());

// [fault switches, wait, requestTimeout, expected outcome, lookup attempts, bound in ms]
// The found answer is about 530 bytes, so a 5 ms drip takes 2.6 s or more, and a 1 ms drip 0.6 to 2 s
// (timer granularity); the bounds leave room for a loaded machine.
const CASES = [
  [{ lookup: 'error' }, false, 10000, 'service_unavailable', 1, 1000],
  [{ lookup: 'garbage' }, false, 10000, 'service_error', 1, 1000],
  [{ lookup: 'hang' }, false, 800, 'service_unavailable', 1, 1500],
  [{ lookup: 'delay', delayMs: 300 }, false, 10000, 'found', 1, 1000],
  [{ lookup: 'drip', delayMs: 5 }, false, 1000, 'service_unavailable', 1, 1700],
  [{ lookup: 'drip', delayMs: 1 }, false, 8000, 'found', 1, 6000],
  [{ lookup: 'error', count: 1 }, true, 10000, 'found', 2, 4500],
  [{ lookup: 'garbage', count: 1 }, true, 10000, 'service_error', 1, 1000],
  [{ lookup: 'drip', delayMs: 5, count: 1 }, true, 1000, 'found', 2, 5500],
  [{ lookup: 'hang', count: 2 }, true, 800, 'found', 3, 9000],
];

test('each fault settles within its bound, with the retries PROTOCOL.md asks for', async () => {
  await env.startSession('8401');
  const credentials = await env.credentials();
  const { tab, context, problems } = await chromiumOnly(env.open(env.page('faults.html', consolePage(env, { credentials }))));
  const results = [];
  for (const [faults, wait, timeout, expected, attempts, bound] of CASES) {
    await env.faults(faults);
    const result = await tab.evaluate(async ([w, t]) => {
      events.length = 0;
      GLANCE.Agent.requestTimeout = t;
      const started = performance.now();
      const outcome = await GLANCE.Agent.lookupSession('8401', w).then((found) => (found.agentjoinurl ? 'found' : 'empty'), (error) => error.code);
      return { outcome, ms: Math.round(performance.now() - started), attempts: events.filter((e) => e.name === 'lookupWaiting').length };
    }, [wait, timeout]);
    results.push({ faults, wait, timeout, ...result, bound });
    const label = `${JSON.stringify(faults)} wait=${wait}`;
    assert.equal(result.outcome, expected, label);
    assert.equal(result.attempts, attempts, `${label}: attempts`);
    assert.ok(result.ms <= bound, `${label}: settled in ${result.ms} ms (bound ${bound})`);
    await env.faults({ lookup: 'none' });
  }
  await context.close();
  report('faults', results);
  assert.deepEqual(problems.filter((problem) => !isNetworkMessage(problem)), []);
});
