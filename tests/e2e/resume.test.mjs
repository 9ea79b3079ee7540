// A console reload keeps the session (issue 17), in the engine under test: the tab keeps each popup
// viewer's name, session key, ssnid and origin in sessionStorage, and after a reload takes back the
// viewers still open, leaves no window behind for one that closed, and never takes another tab's.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { consolePage, poll, start, until } from './harness.mjs';

const STORAGE_KEY = 'glance-agent.viewers';

let env;
let credentials;
before(async () => {
  env = await start();
  credentials = await env.credentials();
});
after(() => env?.stop());

/** Both storages of the page, whole. */
const storages = (tab) => tab.evaluate(() => ({ session: { ...sessionStorage }, local: { ...localStorage } }));
const viewerLoads = async (session) =>
  (await session.requests()).filter((request) => request.url.includes('/agentjoin/AgentView.aspx')).length;
const lookups = async (session) =>
  (await session.requests()).filter((request) => request.url.endsWith('/LookupPartnerSession2')).length;
const count = (tab, name) => tab.evaluate((n) => events.filter((e) => e.name === n).length, name);

/** A console page that joins `key` and waits for its viewer to connect; the viewer's Tab. */
async function joined(session, key) {
  const popup = session.waitForWindow();
  const outcome = await session.tab.evaluate((k) => outcome(GLANCE.Agent.joinSession(k)), key);
  assert.deepEqual(outcome, { ok: true, value: 'window' });
  const viewer = await popup;
  await until(session.tab, () => events.some((e) => e.name === 'connecting'));
  return viewer;
}

test('a reload with the viewer open: its events reach the reloaded page, a join returns it, its close is heard', async () => {
  const key = '7001';
  await env.startSession(key, 'C');
  const url = env.page('resume.html', consolePage(env, { credentials }));
  const session = await env.open(url);
  const { tab, problems } = session;
  const viewer = await joined(session, key);

  // What the tab keeps: one entry per popup viewer, and no credential anywhere.
  const kept = await storages(tab);
  const entries = JSON.parse(kept.session[STORAGE_KEY]);
  assert.equal(entries.length, 1);
  assert.deepEqual(Object.keys(entries[0]).sort(), ['name', 'origin', 'ssnid', 'ssnkey']);
  assert.equal(entries[0].ssnkey, key);
  assert.equal(entries[0].origin, env.webserver);
  assert.match(entries[0].name, /^glance-agent-viewer-/);
  const windows = await session.windowCount();

  await tab.reload();
  await until(tab, () => events.some((e) => e.name === 'viewerResumed'));
  const resumed = await tab.evaluate(() => events.find((e) => e.name === 'viewerResumed').data);
  assert.deepEqual(resumed, { ssnkey: key, close: 'ƒ', service: 'agent' });
  const sessions = await tab.evaluate(() => GLANCE.Agent.sessions);
  assert.equal(sessions.length, 1);
  assert.deepEqual({ ...sessions[0], ssnid: typeof sessions[0].ssnid }, { ssnkey: key, ssnid: 'string', viewer: 'popup', resumed: true });
  assert.equal(sessions[0].ssnid, entries[0].ssnid);

  // The viewer's next event reaches the reloaded page.
  await env.emit(key, 'navigate', { url: 'https://shop.example/after-reload' });
  await until(tab, () => events.some((e) => e.name === 'navigate'));
  assert.equal(await tab.evaluate(() => events.find((e) => e.name === 'navigate').data.url), 'https://shop.example/after-reload');

  // A join of the same session resolves with that viewer: no lookup, no second window, no second load.
  const loadsBefore = await viewerLoads(session);
  const lookupsBefore = await lookups(session);
  const again = await tab.evaluate((k) => GLANCE.Agent.joinSession(k).then(async (found) => {
    const [entry] = GLANCE.Agent.sessions;
    return { window: !!found && 'closed' in found, open: !found.closed, entries: GLANCE.Agent.sessions.length, resumed: entry.resumed };
  }), key);
  assert.deepEqual(again, { window: true, open: true, entries: 1, resumed: true });
  await tab.sleep(500);
  assert.equal(await session.windowCount(), windows, 'no second window');
  assert.equal(await viewerLoads(session), loadsBefore, 'the viewer was loaded once');
  assert.equal(await viewerLoads(session), 1);
  assert.equal(await lookups(session), lookupsBefore, 'no lookup');
  assert.equal(await count(tab, 'viewerOpened'), 0);

  // Closing the viewer is heard, and the tab forgets it.
  await viewer.close();
  await until(tab, () => events.some((e) => e.name === 'viewerClosed'));
  await tab.sleep(1000);
  assert.equal(await count(tab, 'viewerClosed'), 1);
  assert.deepEqual(await tab.evaluate(() => GLANCE.Agent.sessions), []);
  const after = await storages(tab);
  assert.equal(after.session[STORAGE_KEY], undefined, 'forgotten once closed');

  // Neither storage ever held the login key, nor any other credential.
  const signature = credentials.loginkey.split('$')[3];
  for (const held of [kept, after]) {
    const text = JSON.stringify(held);
    assert.ok(!text.includes(signature) && !text.includes(credentials.loginkey), 'no login key stored');
    assert.ok(!text.includes(credentials.partneruserid), 'no partner user id stored');
  }
  await session.close();
  assert.deepEqual(problems, []);
});

test('a viewer closed during the reload, popups allowed: no window is left after the reload', async () => {
  const key = '7002';
  await env.startSession(key, 'C');
  const url = env.page('resume-closed.html', consolePage(env, { credentials }));
  const away = env.page('resume-away.html', '<!doctype html><title>elsewhere</title><p>another page of the console');
  const session = await env.open(url);
  const { tab, problems } = session;
  const viewer = await joined(session, key);
  const windows = await session.windowCount();

  // The console navigates away (the module is gone), the agent closes the viewer, the console comes back.
  await tab.goto(away);
  await viewer.close();
  await poll(async () => (await session.windowCount()) === windows - 1, { what: 'the viewer to close' });
  await tab.goto(url);
  await until(tab, () => window.GLANCE.Agent.ready.then(() => true));
  await tab.sleep(1500); // the look for the viewer happens once the page has loaded
  assert.equal(await session.windowCount(), windows - 1, 'only the console is open');
  assert.equal(await count(tab, 'viewerResumed'), 0);
  assert.deepEqual(await tab.evaluate(() => GLANCE.Agent.sessions), []);
  assert.equal((await storages(tab)).session[STORAGE_KEY], undefined, 'the entry is forgotten');
  await session.close();
  assert.deepEqual(problems, []);
});

test('two tabs stay apart: a second console tab never takes over the first tab\'s viewer', async () => {
  const key = '7003';
  await env.startSession(key, 'C');
  // The second page may start with a copy of the first tab's entry, as a duplicated tab does.
  const url = env.page('resume-tabs.html', consolePage(env, { credentials, body: `<script>
    if (location.hash) sessionStorage.setItem(${JSON.stringify(STORAGE_KEY)}, decodeURIComponent(location.hash.slice(1)));
  </script>` }));
  const session = await env.open(url);
  const { tab: first, problems } = session;
  await joined(session, key);
  const copy = (await storages(first)).session[STORAGE_KEY];
  const windows = await session.windowCount();

  const tabs = {
    'a tab the agent opened': async () => {
      const second = await session.newTab();
      await second.goto(url);
      return second;
    },
    'a tab with a copy of the entry, as a duplicated tab has': async () => {
      const second = await session.newTab();
      await second.goto(`${url}#${encodeURIComponent(copy)}`);
      return second;
    },
    // Opened by the console: the same browsing context group, where the viewer's name can be found,
    // and a copy of the console's sessionStorage.
    'a tab the console opened': async () => {
      const opened = session.waitForWindow();
      await first.evaluate((address) => { window.open(address, 'second-console'); }, url);
      return opened;
    },
  };
  for (const [kind, open] of Object.entries(tabs)) {
    const second = await open();
    await until(second, () => window.GLANCE && window.GLANCE.Agent.ready.then(() => true));
    await second.sleep(1500);
    assert.equal(await count(second, 'viewerResumed'), 0, `not taken over by ${kind}`);
    assert.deepEqual(await second.evaluate(() => GLANCE.Agent.sessions), [], kind);
    assert.equal((await storages(second)).session[STORAGE_KEY], undefined, kind);
    assert.equal(await session.windowCount(), windows + 1, `no window opened or closed but ${kind}`);
    await second.close();
  }

  // The first tab still has its viewer: its events reach it, and a reload takes it back.
  await env.emit(key, 'navigate', { url: 'https://shop.example/first' });
  await until(first, () => events.some((e) => e.name === 'navigate'));
  await first.reload();
  await until(first, () => events.some((e) => e.name === 'viewerResumed'));
  assert.equal((await first.evaluate(() => GLANCE.Agent.sessions)).length, 1);
  await session.close();
  assert.deepEqual(problems, []);
});
