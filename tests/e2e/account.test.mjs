// Signing the agent in beyond a login key handed over once (issue 5), against the local service in
// the engine under test: SAML sign-in through the identity provider's page in a hidden iframe, and login keys
// that renew through the page's `getLoginKey`.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { consolePage, names, start } from './harness.mjs';

let env;
before(async () => { env = await start(); });
after(async () => { await env?.stop(); });

/** Events as the tests compare them: name and data, without the time. */
const heardIn = (tab) => tab.evaluate(() => events.map(({ name, data }) => ({ name, data })));

test('SAML sign-in: authenticateSucceeded stores the credentials (the key never in the event); a refusal is coded', async () => {
  await env.startSession('7001');
  const session = await env.open(env.page('saml.html', consolePage(env)));
  const signedIn = await session.tab.evaluate(() => outcome(GLANCE.Agent.authenticate({ idpusername: 'jo.agent' })));
  assert.deepEqual(signedIn, { ok: true, value: undefined });
  assert.equal(await session.tab.evaluate(() => document.querySelectorAll('iframe').length), 0, 'the hidden frame is gone');
  const found = await session.tab.evaluate(() => outcome(GLANCE.Agent.lookupSession('7001', false)));
  assert.equal(found.ok, true, JSON.stringify(found));
  const lookup = (await session.requests()).find((request) => request.url.endsWith('/LookupPartnerSession2'));
  assert.equal(new URLSearchParams(lookup.body).get('partneruserid'), 'jo.agent', 'the identity provider\'s agent');

  const refused = await session.tab.evaluate(() => outcome(GLANCE.Agent.authenticate({ idpname: 'elsewhere' })));
  assert.equal(refused.code, 'authentication_failed');
  assert.match(refused.message, /unknown identity provider/);
  const heard = (await heardIn(session.tab)).filter(({ name }) => name.startsWith('authenticate'));
  assert.deepEqual(heard.map(({ name, data }) => [name, Object.keys(data).sort()]),
    [['authenticateSucceeded', ['service']], ['authenticateFailed', ['reason', 'service']]]);
  assert.match(heard[1].data.reason, /unknown identity provider/);
  const sso = (await session.requests()).find((request) => request.url.includes('/account/getloginkey.aspx'));
  assert.match(sso.url, /\?sso=1&mode=embedded&fmt=html&idpusername=jo.agent$/);

  // A logout while a sign-in is under way wins: the late answer is not stored.
  const superseded = await session.tab.evaluate(async () => {
    const signingIn = outcome(GLANCE.Agent.authenticate({ idpusername: 'eve' }));
    GLANCE.Agent.logout();
    return [await signingIn, await outcome(GLANCE.Agent.lookupSession('7001', false))];
  });
  assert.equal(superseded[0].code, 'authentication_failed');
  assert.match(superseded[0].message, /superseded/);
  assert.equal(superseded[1].code, 'not_authenticated');
  await session.close();
  assert.deepEqual(session.problems, []);
});

test('SAML sign-in: an identity provider that never answers fails after about 12 s; a spoofed answer is not heard', async () => {
  const session = await env.open(env.page('saml-hang.html', consolePage(env)));
  const started = Date.now();
  const silent = await session.tab.evaluate(() => {
    const signingIn = outcome(GLANCE.Agent.authenticate({ idpid: 'hang' }));
    // A spoofed answer, from this page rather than the identity provider's frame, is not heard.
    const spoof = { glanceEvent: 'authenticateSucceeded', data: { loginKey: 'partnerid=1&partneruserid=eve~$1$9999999999$x' } };
    setTimeout(() => window.postMessage(spoof, '*'), 500);
    return signingIn;
  });
  const took = Date.now() - started;
  assert.equal(silent.code, 'authentication_failed');
  assert.ok(took > 11500 && took < 14000, `${took} ms`);
  assert.deepEqual(names(await session.tab.evaluate(() => events)), ['authenticateFailed:agent']);
  const notSignedIn = await session.tab.evaluate(() => outcome(GLANCE.Agent.lookupSession('7002', false)));
  assert.equal(notSignedIn.code, 'not_authenticated');
  await session.close();
  assert.deepEqual(session.problems, []);
});

test('getLoginKey: asked at once, when the key expires within 60 s, once on a refusal; one call at a time; bounded', async () => {
  await env.startSession('7003');
  const session = await env.open();
  const asked = [];
  // The page's key server: the test mints each key; a plan says how long it lasts or whether it is bad.
  const plan = [];
  env.expose('mintKey', async () => {
    const { expiresIn = 3600, tampered = false } = plan.shift() || {};
    const key = await env.credentials({ expiresIn });
    asked.push(expiresIn);
    return tampered ? { ...key, loginkey: key.loginkey.slice(0, -4) + 'AAAA' } : key;
  });
  plan.push({ expiresIn: 30 }); // the key asked for as soon as authenticate is called
  await session.tab.goto(env.page('renew.html', consolePage(env, { expose: ['mintKey'], body: `
    <script>GLANCE.Agent.authenticate({ getLoginKey: () => mintKey() });</script>` })));
  const lookup = () => session.tab.evaluate(() => outcome(GLANCE.Agent.lookupSession('7003', false)));
  const reauthenticate = () => session.tab.evaluate(() => GLANCE.Agent.authenticate({ getLoginKey: () => mintKey() }));

  // The first key is held before any call (its answer reaches the page before the next evaluate).
  for (let wait = 0; wait < 100 && asked.length === 0; wait += 1) await session.tab.sleep(20);
  await session.tab.sleep(100);
  assert.deepEqual(asked, [30]);
  const three = await session.tab.evaluate(() => Promise.all([1, 2, 3].map(() =>
    outcome(GLANCE.Agent.lookupSession('7003', false)))));
  assert.deepEqual(three.map((result) => result.ok), [true, true, true]);
  assert.deepEqual(asked, [30, 3600], 'the 30-second key was renewed once, for three calls at once');
  assert.equal((await lookup()).ok, true);
  assert.equal(asked.length, 2, 'a fresh key is not renewed');

  // A key the service refuses: one renewal, then the call goes through.
  plan.push({ tampered: true }, { expiresIn: 3600 });
  await reauthenticate();
  assert.equal((await lookup()).ok, true);
  assert.equal(asked.length, 4);
  // Refused twice: the second refusal reaches the page, and nothing loops.
  plan.push({ tampered: true }, { tampered: true });
  await reauthenticate();
  assert.equal((await lookup()).code, 'service_error');
  assert.equal(asked.length, 6);

  const failures = await session.tab.evaluate(async () => {
    const results = [];
    GLANCE.Agent.authenticate({ getLoginKey: () => Promise.reject(new Error('key server down')) });
    results.push(await outcome(GLANCE.Agent.lookupSession('7003', false)));
    GLANCE.Agent.authenticate({ getLoginKey: () => ({ loginkey: 'nonsense', partnerid: 1, partneruserid: 'x' }) });
    results.push(await outcome(GLANCE.Agent.lookupSession('7003', false)));
    // A key server that never answers: the wait ends at requestTimeout, or when the call's signal aborts.
    GLANCE.Agent.requestTimeout = 1000;
    GLANCE.Agent.authenticate({ getLoginKey: () => new Promise(() => {}) });
    const started = performance.now();
    results.push(await outcome(GLANCE.Agent.lookupSession('7003', false)));
    results.push(performance.now() - started);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    results.push(await outcome(GLANCE.Agent.lookupSession('7003', { wait: false, signal: controller.signal })));
    return results;
  });
  assert.equal(failures[0].code, 'authentication_failed');
  assert.match(failures[0].message, /key server down/);
  assert.equal(failures[1].code, 'invalid_credentials');
  assert.equal(failures[2].code, 'authentication_failed');
  assert.ok(failures[3] < 3000, `${failures[3]} ms`);
  assert.equal(failures[4].code, 'canceled');
  await session.close();
  assert.deepEqual(session.problems, []);
});
