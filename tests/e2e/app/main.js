// A small agent console built the way npm users build theirs: `import` from the package, bundled by
// esbuild (tests/e2e/npm-app.test.mjs installs dist/npm as node_modules/glance-agent and bundles this).
import { Agent } from 'glance-agent';

const params = new URLSearchParams(location.search);
window.events = [];
window.GLANCE_seen = typeof window.GLANCE; // the package must not install itself

Agent.addEventListenerAll((name, data) => {
  window.events.push({ name, data: { service: data.service, ssnkey: data.ssnkey } });
  const row = document.createElement('li');
  row.textContent = `${name} (${data.service})`;
  document.getElementById('log').append(row);
});
Agent.webserver = params.get('webserver');
Agent.authenticate(JSON.parse(params.get('credentials')));

document.getElementById('join').addEventListener('click', () => {
  window.joined = Agent.joinSession(document.getElementById('key').value).then(
    (viewer) => ({ ok: true, window: typeof viewer.close === 'function' }),
    (error) => ({ ok: false, code: error.code }));
});
