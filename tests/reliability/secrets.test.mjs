// Secrets: in POST mode the login key appears in no URL the browser loads, in no console output of
// the library, in no event payload and in no error message, through a whole shift's worth of calls.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { chromiumOnly, consolePage, start, until } from '../e2e/harness.mjs';
import { report } from './report.mjs';

let env;
before(async () => { env = await start(); });
after(() => env?.stop());

test('the login key is in no URL, console message, event payload or error message', async () => {
  await env.startSession('8201', 'C');
  const credentials = await env.credentials();
  const signature = credentials.loginkey.split('$')[3];
  const { tab, context, problems, session } = await chromiumOnly(env.open());
  const consoleOutput = [];
  // The text and every argument's value: a key inside a logged object does not show in the text.
  const record = (message) => consoleOutput.push(Promise.all(message.args().map((arg) => arg.jsonValue().then(
    (value) => JSON.stringify(value) ?? String(value), () => '')))
    .then((values) => [message.text(), ...values].join(' ')));
  context.on('page', (page) => page.on('console', record));
  tab.on('console', record);
  await tab.goto(env.page('secrets.html', consolePage(env, { credentials, body: `<script>
    window.errors = [];
    window.record = (promise) => promise.catch((error) => { errors.push(String(error.message) + ' ' + String(error.reason)); });
    // A throwing listener makes the library report on the console, with the event it was handling.
    GLANCE.Agent.addEventListener('lookupFound', () => { throw new Error('listener failed'); });
  </script>` })));

  const popup = context.waitForEvent('page');
  await tab.evaluate(() => record(GLANCE.Agent.joinSession('8201')));
  await popup;
  await until(tab, () => events.some((e) => e.name === 'connecting'));
  await env.emit('8201', 'agents', { count: 2 });
  await until(tab, () => events.some((e) => e.name === 'agents'));
  await env.faults({ lookup: 'garbage' });
  await tab.evaluate(() => record(GLANCE.Agent.lookupSession('8201', false)));
  await env.faults({ lookup: 'none' });
  await tab.evaluate((creds) => {
    // Refused credentials: the error names the field, never the value.
    try { GLANCE.Agent.authenticate({ ...creds, loginkey: creds.loginkey + '!' }); } catch (error) { errors.push(error.message); }
    try { GLANCE.Agent.authenticate({ ...creds, partnerid: 'x' + creds.loginkey }); } catch (error) { errors.push(error.message); }
    return record(GLANCE.Agent.openViewer('8201'));
  }, credentials);
  await tab.waitForTimeout(500);
  const seen = await tab.evaluate(() => ({ events: JSON.stringify(events), errors }));
  const consoleTexts = await Promise.all(consoleOutput);
  const requests = await session.requests();
  await context.close();

  const leaks = {
    urls: requests.filter((request) => decodeURIComponent(request.url).includes(signature)).map((request) => request.url),
    console: consoleTexts.filter((text) => text.includes(signature)),
    events: seen.events.includes(signature),
    errors: seen.errors.filter((text) => text.includes(signature)),
  };
  report('secrets', { requests: requests.length, consoleMessages: consoleTexts.length, eventBytes: seen.events.length,
    errors: seen.errors.length, leaks });
  assert.ok(consoleTexts.some((text) => text.includes('listener failed')), 'the library did write to the console');
  assert.ok(seen.errors.length >= 3, 'errors were produced');
  assert.deepEqual(leaks, { urls: [], console: [], events: false, errors: [] });
  // The listener's throw is reported by the library, not left uncaught.
  assert.deepEqual(problems.filter((problem) => problem.startsWith('pageerror')), []);
});
