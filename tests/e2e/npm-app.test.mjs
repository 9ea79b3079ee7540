// The npm package as an application uses it: installed into node_modules, imported, bundled by esbuild,
// and served with the .wasm copied beside the bundle. It must behave as the script tag does.
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { build } from 'esbuild';
import { names, root, start, until } from './harness.mjs';

const app = join(root, 'target/e2e-app');
let env;
before(async () => {
  rmSync(app, { recursive: true, force: true });
  mkdirSync(app, { recursive: true });
  cpSync(join(root, 'dist/npm'), join(app, 'node_modules/glance-agent'), { recursive: true });
  cpSync(join(root, 'tests/e2e/app'), join(app, 'src'), { recursive: true });
  await build({ entryPoints: [join(app, 'src/main.js')], bundle: true, format: 'esm', outfile: join(app, 'main.js'), logLevel: 'warning' });
  cpSync(join(app, 'src/index.html'), join(app, 'index.html'));
  cpSync(join(app, 'node_modules/glance-agent/glance_agent_bg.wasm'), join(app, 'glance_agent_bg.wasm'));
  env = await start();
});
after(() => env?.stop());

test('an esbuild-bundled app importing the npm package joins a session like the script tag', async () => {
  const key = '4001';
  await env.startSession(key, 'G');
  const credentials = await env.credentials();
  const query = new URLSearchParams({ webserver: env.webserver, credentials: JSON.stringify(credentials) });
  const session = await env.open(`${env.consoleOrigin}/app/index.html?${query}`);
  const { tab, problems } = session;
  const popup = session.waitForWindow();
  await tab.click('#join'); // a real click, as an agent would
  await popup;
  await until(tab, () => window.events.some((event) => event.name === 'connecting'));
  await env.emit(key, 'stats');
  await until(tab, () => window.events.some((event) => event.name === 'stats'));

  assert.deepEqual(await tab.evaluate(() => window.joined), { ok: true, window: true });
  assert.deepEqual(names(await tab.evaluate(() => window.events)), ['lookupWaiting:agent', 'lookupFound:agent',
    'viewerOpened:agent', 'connecting:screenshare', 'stats:screenshare']);
  assert.equal(await tab.evaluate(() => window.GLANCE_seen), 'undefined', 'the package leaves window alone');
  assert.equal(await tab.count('#log li'), 5, 'the app rendered every event');
  await session.close();
  assert.deepEqual(problems, []);
});
