// What every browser harness here shares (tests/browser, tests/e2e, bench): local HTTP servers on
// 127.0.0.1, static files confined to one folder, Debian's Chromium with the flags these machines
// need, and stub answers for services that do not check signatures. The engines and their sessions
// are in engines.mjs.
import http from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const root = fileURLToPath(new URL('../..', import.meta.url));

export const CONTENT_TYPES = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm',
  '.html': 'text/html; charset=utf-8', '.css': 'text/css', '.json': 'application/json' };

/** No sandbox (root), and nothing that reaches for the network: there is none here. */
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run'];

/** For memory figures: gc() in pages, and performance.memory without its 100 KB quantisation. */
export const MEMORY_ARGS = ['--js-flags=--expose-gc', '--enable-precise-memory-info'];

/**
 * A page script to install before the script tag: keeps the module's memory as `window.wasmMemory`,
 * so that a soak can read its size.
 */
export const CATCH_WASM_MEMORY = `<script>
  const Instance = WebAssembly.Instance;
  WebAssembly.Instance = function (module, imports) {
    const instance = new Instance(module, imports);
    window.wasmMemory = Object.values(instance.exports).find((value) => value instanceof WebAssembly.Memory);
    return instance;
  };
</script>`;

/** A login key signature of the right shape, for stub services that do not check it. */
export const SIGNATURE = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNO-_';
/** A well-formed login key, valid for an hour. */
export const loginKey = () => `$1$${Math.floor(Date.now() / 1000) + 3600}$${SIGNATURE}`;

/** A LookupPartnerSession2 answer: session 1234 is running, its viewer on `origin`. */
export const FOUND = (origin) => `<?xml version="1.0" encoding="utf-8"?>
<SessionInfo xmlns="http://www.glance.net/"><id>77</id><ssnid>20541.1234.1</ssnid><passcode>1234</passcode>
<agentjoinurl>${origin}/agentjoin/AgentView.aspx?SessionKey=1234&amp;ssnid=20541.1234.1</agentjoinurl>
<calltype>C</calltype></SessionInfo>`;

/** An HTTP server on a free port of 127.0.0.1, once it listens. */
export function listen(handler) {
  return new Promise((resolve) => {
    const server = http.createServer(handler);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

/** A request's whole body, as text. */
export function readBody(request) {
  return new Promise((resolve) => {
    let body = '';
    request.on('data', (chunk) => { body += chunk; });
    request.on('end', () => resolve(body));
  });
}

/**
 * Serves `file` if it lies inside `base`, else (or if it cannot be read) answers 404. `html` rewrites
 * an HTML file's text (the harnesses put their collector in).
 */
export async function sendFile(response, base, file, headers = {}, html = (text) => text) {
  if (!normalize(file).startsWith(join(base, sep))) { // join: `base` may end in a separator already
    response.writeHead(404);
    return response.end();
  }
  try {
    const bytes = await readFile(file);
    response.writeHead(200, { ...headers, 'Content-Type': CONTENT_TYPES[extname(file)] || 'application/octet-stream' });
    response.end(extname(file) === '.html' ? html(bytes.toString('utf8')) : bytes);
  } catch {
    response.writeHead(404);
    response.end();
  }
}

/** The file under `base` that a URL path names (its leading `/` dropped). */
export const fileUnder = (base, path) => normalize(join(base, path));

/** Debian's Chromium through playwright-core; `args` are added to [`CHROMIUM_ARGS`]. */
export function launchChromium({ args = [], ignoreDefaultArgs = [] } = {}) {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: [...CHROMIUM_ARGS, ...args], ignoreDefaultArgs });
}

/** Collects a Playwright page's uncaught errors and console errors into `problems`. */
export function watchProblems(tab, problems) {
  tab.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  tab.on('console', (message) => { if (message.type() === 'error') problems.push(`console: ${message.text()}`); });
}
