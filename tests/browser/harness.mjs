// Shared setup for the browser tests: two local origins and headless Chromium.
//
// - The console origin serves dist/ and the test pages (`page(name, html, headers)`).
// - The Glance origin (another port, so requests are cross-origin as in production) answers the
//   lookup service with whatever `glance.answer` says and serves a viewer page at
//   /agentjoin/AgentView.aspx that posts one event to its opener. It records every request.
import { join } from 'node:path';
import { FOUND, fileUnder, launchChromium, listen, loginKey, readBody, root, sendFile, SIGNATURE, watchProblems }
  from '../support/local.mjs';

export { FOUND, loginKey, SIGNATURE };

export async function start() {
  const pages = new Map();
  const glance = { requests: [], answer: null };

  const consoleServer = await listen(async (request, response) => {
    const url = new URL(request.url, 'http://console');
    if (url.pathname === '/favicon.ico') { response.writeHead(204); return response.end(); }
    const page = pages.get(url.pathname);
    if (page) {
      response.writeHead(200, { 'Content-Type': page.type || 'text/html', ...page.headers });
      return response.end(page.body);
    }
    return sendFile(response, join(root, 'dist'), fileUnder(root, url.pathname));
  });

  const glanceServer = await listen(async (request, response) => {
    const body = await readBody(request);
    const url = new URL(request.url, 'http://glance');
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

  // If Chromium cannot start, the servers are closed so the failed run ends instead of hanging.
  const browser = await launchChromium().catch((error) => {
    consoleServer.close();
    glanceServer.close();
    throw error;
  });

  return {
    consoleOrigin,
    glance,
    /** Serves `body` at `/name` on the console origin. */
    page(name, body, headers = {}, type = 'text/html') {
      pages.set('/' + name, { body, headers, type });
      return `${consoleOrigin}/${name}`;
    },
    /** A fresh browser context and page, collecting page errors and console errors. */
    async open(url) {
      const context = await browser.newContext();
      const tab = await context.newPage();
      const problems = [];
      watchProblems(tab, problems);
      const requests = [];
      context.on('request', (request) => requests.push(request.url()));
      await tab.goto(url);
      return { context, tab, problems, requests };
    },
    async stop() {
      await browser.close();
      consoleServer.close();
      glanceServer.close();
    },
  };
}
