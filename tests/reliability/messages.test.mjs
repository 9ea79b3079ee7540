// Viewer messages: only a window this library opened, on the webserver's origin, can fire events.
// Spoofed messages from other origins, from another window on the webserver's origin, and from the page
// itself are never dispatched; malformed ones from the real viewer are dropped; none of them throws.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { chromiumOnly, consolePage, start, until } from '../e2e/harness.mjs';
import { report } from './report.mjs';

let env;
before(async () => { env = await start(); });
after(() => env?.stop());

// Built inside each sender, so the huge string and the __proto__ keys are made where they are posted.
const SPOOFS = () => {
  const huge = 'x'.repeat(5 * 1024 * 1024);
  return [
    { glanceEvent: 'sessionEnded', data: { service: 'cobrowse', reason: 'spoofed' } },
    { glanceEvent: 'stats', data: { service: 'screenshare', blob: huge } },
    { glanceEvent: huge, data: {} },
    { glanceEvent: '__proto__', data: { service: 'cobrowse' } },
    JSON.parse('{"glanceEvent": "navigate", "data": {"__proto__": {"polluted": true}, "service": "cobrowse"}}'),
    JSON.parse('{"__proto__": {"glanceEvent": "navigate"}}'),
    null, undefined, 'connecting', 42, [], {}, { glanceEvent: 7 }, { glanceEvent: null, data: null },
  ];
};
// From the real viewer: only these shapes are not events at all and must be dropped.
const MALFORMED = () => [null, undefined, 'connecting', 42, [], {}, { glanceEvent: 7 }, { glanceEvent: '' },
  { glanceEvent: null, data: null }, JSON.parse('{"__proto__": {"glanceEvent": "navigate"}}')];

test('spoofed and malformed viewer messages are never dispatched and never throw', async () => {
  await env.startSession('8101', 'G');
  const credentials = await env.credentials();
  const otherOrigin = env.consoleOrigin.replace('127.0.0.1', 'localhost');
  env.page('blank.html', '<!doctype html><title>blank</title>');
  const { tab, context, problems } = await chromiumOnly(env.open(env.page('messages.html', consolePage(env, { credentials, body: `
    <iframe id="viewer"></iframe>
    <iframe id="stranger" src="${otherOrigin}/e2e/blank.html"></iframe>
    <iframe id="sibling" src="${env.webserver}/visitor"></iframe>` }))));
  await tab.evaluate(() => GLANCE.Agent.joinSession('8101', { iframe: 'viewer' }));
  await until(tab, () => events.some((e) => e.name === 'connecting'));
  const before = await tab.evaluate(() => events.length);

  const frames = tab.frames();
  const viewer = frames.find((frame) => frame.url().includes('/agentjoin/AgentView.aspx'));
  const stranger = frames.find((frame) => frame.url().startsWith(otherOrigin));
  const sibling = frames.find((frame) => frame.url().startsWith(`${env.webserver}/visitor`));
  assert.ok(viewer && stranger && sibling, 'the viewer, another origin and another window of the webserver origin');
  const post = (payloads) => `for (const message of (${payloads})()) parent.postMessage(message, '*'); (${payloads})().length`;
  const sent = {
    otherOrigin: await stranger.evaluate(post(SPOOFS.toString())),
    sameOriginOtherWindow: await sibling.evaluate(post(SPOOFS.toString())),
    consoleItself: await tab.evaluate(`for (const message of (${SPOOFS})()) window.postMessage(message, '*'); (${SPOOFS})().length`),
    viewerMalformed: await viewer.evaluate(post(MALFORMED.toString())),
  };
  // A real event after all of that still gets through, and is the only new one.
  await env.emit('8101', 'screen');
  await until(tab, () => events.some((e) => e.name === 'screen'));
  const after = await tab.evaluate((count) => events.slice(count).map((e) => e.name), before);
  const polluted = await tab.evaluate(() => ({}).polluted !== undefined || Object.prototype.glanceEvent !== undefined);
  await context.close();

  report('messages', { sent, dispatched: after.length - 1 });
  assert.deepEqual(after, ['screen'], 'nothing spoofed or malformed was dispatched');
  assert.equal(polluted, false, 'no prototype was polluted');
  assert.deepEqual(problems, []);
});
