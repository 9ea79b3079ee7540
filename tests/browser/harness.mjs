// Shared setup for the browser tests: two local origins and the engine under test (ENGINE, see
// tests/support/engines.mjs).
//
// - The console origin serves dist/ and the test pages (`page(name, html, headers)`).
// - The Glance origin (another port, so requests are cross-origin as in production) answers the
//   lookup service with whatever `glance.answer` says and serves a viewer page at
//   /agentjoin/AgentView.aspx that posts one event to its opener. It records every request.
import { join } from 'node:path';
import { COLLECTOR, COLLECTOR_PATH, launch, withCollector } from '../support/engines.mjs';
import { FOUND, fileUnder, listen, loginKey, readBody, root, sendFile, SIGNATURE } from '../support/local.mjs';

export { FOUND, loginKey, SIGNATURE };
export { ENGINE, poll, unsupported } from '../support/engines.mjs';

export async function start() {
  const pages = new Map();
  const glance = { requests: [], answer: null };
  const consoleRequests = [];

  const consoleServer = await listen(async (request, response) => {
    const url = new URL(request.url, 'http://console');
    if (url.pathname === '/favicon.ico') { response.writeHead(204); return response.end(); }
    consoleRequests.push({ method: request.method, url: request.url });
    if (url.pathname === COLLECTOR_PATH) {
      response.writeHead(200, { 'Content-Type': 'text/javascript' });
      return response.end(COLLECTOR);
    }
    const page = pages.get(url.pathname);
    if (page) {
      const type = page.type || 'text/html';
      response.writeHead(200, { 'Content-Type': type, ...page.headers });
      return response.end(type === 'text/html' ? withCollector(page.body) : page.body);
    }
    return sendFile(response, join(root, 'dist'), fileUnder(root, url.pathname), {}, withCollector);
  });

  const glanceServer = await listen(async (request, response) => {
    const body = await readBody(request);
    const url = new URL(request.url, 'http://glance');
    if (url.pathname === '/favicon.ico') { response.writeHead(204); return response.end(); }
    glance.requests.push({ method: request.method, url: request.url, body, origin: request.headers.origin,
      contentType: request.headers['content-type'] });
    if (url.pathname === '/services/SessionService.asmx/LookupPartnerSession2') {
      const answer = glance.answer || { status: 200, body: FOUND(glance.origin) };
      response.writeHead(answer.status, { 'Content-Type': 'text/xml', 'Access-Control-Allow-Origin': request.headers.origin || '*' });
      return response.end(answer.body);
    }
    if (url.pathname === '/agentjoin/AgentView.aspx') {
      response.writeHead(200, { 'Content-Type': 'text/html' });
      return response.end(`<!doctype html><title>viewer</title><p>viewer
        <script>
          const target = window.opener || window.parent;
          target.postMessage({ glanceEvent: 'connecting', data: { service: 'cobrowse', ssnkey: '1234' } }, '*');
        </script>`);
    }
    response.writeHead(404);
    response.end();
  });

  const consoleOrigin = `http://127.0.0.1:${consoleServer.address().port}`;
  glance.origin = `http://127.0.0.1:${glanceServer.address().port}`;

  // If the browser cannot start, the servers are closed so the failed run ends instead of hanging.
  const browser = await launch().catch((error) => {
    consoleServer.close();
    glanceServer.close();
    throw error;
  });

  /** Both origins' requests, as absolute URLs. */
  const requests = {
    mark: async () => ({ console: consoleRequests.length, glance: glance.requests.length }),
    since: async (mark) => [
      ...consoleRequests.slice(mark.console).map((request) => ({ ...request, url: consoleOrigin + request.url })),
      ...glance.requests.slice(mark.glance).map((request) => ({ ...request, url: glance.origin + request.url })),
    ],
  };

  return {
    consoleOrigin,
    glance,
    /** Serves `body` at `/name` on the console origin. */
    page(name, body, headers = {}, type = 'text/html') {
      pages.set('/' + name, { body, headers, type });
      return `${consoleOrigin}/${name}`;
    },
    /** A fresh browser session on `url`, collecting page errors and console errors. */
    async open(url) {
      const session = await browser.newSession({ requests });
      await session.tab.goto(url);
      return session;
    },
    async stop() {
      await browser.close();
      consoleServer.close();
      glanceServer.close();
    },
  };
}
