// The whole lookup window, once: a session that never starts. Twelve attempts on the PROTOCOL.md
// schedule (at once, six 3 s pauses, five 5 s pauses), then lookupFailed with reason "timedout".
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { consolePage, names, sleep, start, until } from './harness.mjs';

let env;
before(async () => { env = await start(); });
after(() => env?.stop());

test('a session that never starts: 12 attempts over about 45 s, then timedout', async () => {
  const credentials = await env.credentials();
  const session = await env.open(env.page('timeout.html', consolePage(env, { credentials })));
  const { tab, problems } = session;
  await tab.evaluate(() => { window.joined = outcome(GLANCE.Agent.joinSession('5001')); });
  // Polled only near the end: the page's timers are what is measured, so the driver stays quiet.
  await sleep(42000);
  await until(tab, () => events.some((e) => e.name === 'lookupFailed'), undefined, 18000);
  const joined = await tab.evaluate(() => window.joined);
  const events = await tab.evaluate(() => events);
  const requests = await session.requests();
  await session.close();

  assert.deepEqual({ code: joined.code, isError: joined.isError }, { code: 'timedout', isError: true });
  assert.deepEqual(names(events), [...Array(12).fill('lookupWaiting:agent'), 'lookupFailed:agent']);
  assert.equal(events[12].data.reason, 'timedout');
  // Each pause is kept, and the next attempt follows it: a gap is the pause plus the request's time,
  // which a busy machine stretches (a whole second once, on a fresh clone with the engines running).
  const pauses = [3, 3, 3, 3, 3, 3, 5, 5, 5, 5, 5].map((seconds) => seconds * 1000);
  const gaps = events.slice(1, 12).map((event, index) => event.at - events[index].at);
  gaps.forEach((gap, index) => {
    assert.ok(gap >= pauses[index] - 100 && gap < pauses[index] + 1900, `pause ${index + 1}: ${gap} ms, not ${pauses[index]}`);
  });
  assert.equal(requests.filter((request) => request.url.includes('LookupPartnerSession2')).length, 12);
  assert.deepEqual(problems, []);
});
