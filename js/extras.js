// The calls beyond the API reference that not every console makes: SAML sign-in, login keys that
// renew, `inSession` and `diagnose`. The facade loads this file on their first use, so consoles that
// never call them never download it. Each is one request or one hidden frame; the module holds the
// state (credentials, webserver) and builds what carries credentials.

import { elementText, postForm } from './dom.js';
import { canceled, codedError, credentialValues, refused } from './shared.js';

/** How long the SAML sign-in page has to answer (PROTOCOL.md section 1). */
const SSO_TIMEOUT_MS = 12000;
/** Longest identity-provider hint value sent (it goes in a URL). */
const MAX_HINT_LENGTH = 256;
/** The agent's sessions, below the webserver (PROTOCOL.md section 5). */
const IN_SESSION_PATH = '/services/SessionService.asmx/AgentInSession';
/** The elements of each `session2` in an `AgentInSession` answer (PROTOCOL.md section 5). */
const IN_SESSION_FIELDS = ['id', 'passcode', 'num', 'disambiguateId', 'servername'];
/** A login key that expires sooner than this is renewed before a call that sends it. */
const RENEW_BEFORE_S = 60;
/** How long `diagnose` waits for the viewer page to load in a hidden frame. */
const FRAME_PROBE_MS = 5000;

// Module settings (`wasm.setting(n)`), as js/agent.js numbers them.
const WEBSERVER = 0;
const REQUEST_TIMEOUT = 2;
const LOGIN_KEY_EXPIRES = 3;

/** The message of anything thrown or rejected, without throwing itself. */
function messageOf(thrown) {
  try {
    return String(thrown?.message ?? thrown);
  } catch (unprintable) {
    return 'an unreadable error';
  }
}

/** A hidden iframe on `url`, in the page until `remove()`. */
function hiddenFrame(url) {
  const frame = document.createElement('iframe');
  frame.hidden = true;
  frame.src = url;
  return document.documentElement.appendChild(frame);
}

/**
 * An `AbortSignal` that aborts after `ms` or when `outer` (the page's signal, optional) does; `done()`
 * releases its timer and listener. (`AbortSignal.timeout` and `.any` are newer than this library's
 * browsers.)
 */
function limit(ms, outer) {
  const controller = new AbortController();
  const abort = () => controller.abort();
  const timer = setTimeout(abort, ms);
  outer?.addEventListener('abort', abort);
  return {
    signal: controller.signal,
    done() {
      clearTimeout(timer);
      outer?.removeEventListener('abort', abort);
    },
  };
}

/**
 * SAML sign-in: the identity provider's page, in a hidden iframe, posts `authenticateSucceeded` with
 * `loginKey` = `partnerid=<pid>&partneruserid=<puid>~<loginkey>`, or `authenticateFailed`; silence
 * fails after 12 s. Fires the outcome as the same-named event (without the login key: it is a secret)
 * and settles with it: rejected with code `authentication_failed` and the `reason`. The key is stored
 * only while `isCurrent()`: a later `authenticate` or `logout` wins over a sign-in still under way.
 */
export function signOn(wasm, hint, value, isCurrent) {
  if (!(typeof value == 'string' || typeof value == 'number') || String(value).length > MAX_HINT_LENGTH) {
    throw codedError('invalid_credentials', 'invalid credentials: ' + hint + ' must be a string (or number) of at most 256 characters');
  }
  const url = wasm.setting(WEBSERVER) + '/account/getloginkey.aspx?' +
    new URLSearchParams({ sso: 1, mode: 'embedded', fmt: 'html', [hint]: value });
  const origin = new URL(url).origin;
  return new Promise((resolve, reject) => {
    const frame = hiddenFrame(url);
    const end = (reason) => {
      clearTimeout(timer);
      removeEventListener('message', heard);
      frame.remove();
      const data = { service: 'agent' };
      if (reason == null) {
        wasm.fireEvent('authenticateSucceeded', data);
        return resolve();
      }
      data.reason = reason;
      wasm.fireEvent('authenticateFailed', data);
      reject(refused('authentication_failed', 'single sign-on did not authenticate the agent: ', reason));
    };
    const heard = ({ source, origin: from, data: message }) => {
      if (source !== frame.contentWindow || from !== origin || !message) return;
      const data = message.data || {};
      if (message.glanceEvent === 'authenticateFailed') end(messageOf(data.reason || 'the identity provider refused'));
      if (message.glanceEvent !== 'authenticateSucceeded') return;
      if (!isCurrent()) return end('superseded by a later authenticate or logout');
      const text = String(data.loginKey);
      const split = text.lastIndexOf('~');
      const fields = new URLSearchParams(text.slice(0, split));
      try {
        wasm.authenticate(text.slice(split + 1), fields.get('partnerid'), fields.get('partneruserid'));
        end();
      } catch (error) {
        end(error.message);
      }
    };
    const timer = setTimeout(() => end('timedout'), SSO_TIMEOUT_MS);
    addEventListener('message', heard);
  });
}

/**
 * `authenticate({getLoginKey})`: asks for the first key at once, then again 60 s before each key
 * expires, so that calls (a join inside the agent's click above all) rarely wait for one. Returns what
 * runs each call that sends the key: it asks first when no key is held or the key expires within
 * 60 s, and once more when the service refuses the key (`service_error`), then makes the call again.
 * One `getLoginKey` call at a time, limited by `requestTimeout`; a wait for it ends when the call's
 * `signal` (its checked `params.signal`, if any) aborts. Keys are stored only while `isCurrent()`.
 */
export function renewingKeys(wasm, getLoginKey, isCurrent) {
  let renewing = null;
  let ahead;
  const renew = () => (renewing = renewing || new Promise((resolve, reject) => {
    const timer = setTimeout(reject, wasm.setting(REQUEST_TIMEOUT), 'no key within requestTimeout');
    Promise.resolve().then(getLoginKey).then(resolve, reject).finally(() => clearTimeout(timer));
  }).then((credentials) => {
    if (!isCurrent()) return;
    wasm.authenticate(...credentialValues(credentials));
    // The next key, 60 s before this one expires (a key that short is renewed when a call needs it).
    const due = (wasm.setting(LOGIN_KEY_EXPIRES) - RENEW_BEFORE_S) * 1000 - Date.now();
    clearTimeout(ahead);
    if (due > 0) ahead = setTimeout(() => isCurrent() && renew().catch(() => {}), due);
  }, (cause) => {
    throw codedError('authentication_failed', 'getLoginKey failed: ' + messageOf(cause), cause);
  }).finally(() => { renewing = null; }));
  renew().catch(() => {}); // a call that needs the key reports a failure
  return (call, signal) => {
    const waited = () => (signal ? new Promise((resolve, reject) => {
      const stop = () => reject(canceled());
      signal.addEventListener('abort', stop);
      renew().then(resolve, reject).finally(() => signal.removeEventListener('abort', stop));
    }) : renew()).then(call);
    const fresh = wasm.setting(LOGIN_KEY_EXPIRES) - Date.now() / 1000 > RENEW_BEFORE_S;
    return (fresh ? call() : waited()).catch((error) => {
      if (error.code !== 'service_error') throw error;
      return waited();
    });
  };
}

/** The sessions of an `AgentInSession` answer (`postForm`'s), or a coded Error as a lookup would fail. */
function readSessions(status, text, answer) {
  const reason = text.trim().slice(0, 2000) || 'HTTP ' + status;
  const message = 'the Glance service refused the request: ';
  if (status >= 500 || status == 408 || status == 429) throw refused('service_unavailable', message, reason);
  const has = (tag) => elementText(answer, tag) !== undefined;
  if (status > 299 || !answer || has('parsererror') || has('Error')) throw refused('service_error', message, reason);
  return Array.from(answer.getElementsByTagNameNS('*', 'session2'), (session) => {
    const fields = {};
    for (const field of IN_SESSION_FIELDS) fields[field] = elementText(session, field) || '';
    return fields;
  });
}

/**
 * `inSession(key, {signal})`: one `AgentInSession` request (its body made by the module, which holds the
 * credentials), limited by `requestTimeout`. Resolves to whether the agent is in session `key`, or to
 * the list of the agent's sessions when `key` is empty.
 */
export async function inSession(wasm, key, signal) {
  const all = key == null || key === '';
  const body = wasm.inSessionBody(all ? '' : key);
  const request = limit(wasm.setting(REQUEST_TIMEOUT), signal);
  let answer;
  try {
    answer = await postForm(wasm.setting(WEBSERVER) + IN_SESSION_PATH, body, request.signal);
  } catch (failure) {
    if (signal?.aborted) throw canceled();
    const reason = request.signal.aborted ? 'the request timed out' : messageOf(failure) || 'network error';
    throw refused('service_unavailable', 'the Glance service could not be reached: ', reason, failure);
  } finally {
    request.done();
  }
  const sessions = readSessions(...answer);
  // The service answers about the key asked for; the list is checked all the same.
  return all ? sessions : sessions.some((session) => session.passcode === String(key).trim());
}

/** Whether the webserver answers this page, CORS included. */
async function reach(webserver, timeout) {
  const post = async (mode) => {
    const request = limit(timeout);
    try {
      return await fetch(webserver + IN_SESSION_PATH, { method: 'POST', mode, signal: request.signal });
    } finally {
      request.done();
    }
  };
  try {
    const response = await post('cors');
    return [response.status < 500, 'HTTP ' + response.status + ' from ' + webserver];
  } catch (failure) {
    // Refused for CORS and unreachable look alike to a page; a no-CORS request tells them apart. A
    // timeout is a slow or absent server, not CORS.
    const opaque = failure?.name !== 'AbortError' && (await post('no-cors').catch(() => null));
    return [false, opaque
      ? webserver + ' answers, but not to this origin (CORS): ask Glance to allow ' + location.origin
      : webserver + ' cannot be reached: ' + messageOf(failure)];
  }
}

/** Whether this page's Content-Security-Policy lets it frame the viewer page. (The viewer's own
 * framing headers belong to another origin: a page cannot read them.) */
function frameable(url) {
  return new Promise((resolve) => {
    const frame = hiddenFrame(url);
    const end = (ok, detail) => {
      clearTimeout(timer);
      removeEventListener('securitypolicyviolation', violated);
      frame.remove();
      resolve([ok, detail]);
    };
    const violated = (event) => {
      if (event.blockedURI && url.startsWith(event.blockedURI)) {
        end(false, "this page's Content-Security-Policy (" + event.violatedDirective + ') forbids framing the viewer');
      }
    };
    let timer = setTimeout(end, FRAME_PROBE_MS, null, 'the viewer page did not load within 5 s');
    addEventListener('securitypolicyviolation', violated);
    // A blocked frame loads an error page; the violation is reported first, so a load ends the probe.
    frame.onload = () => {
      clearTimeout(timer);
      timer = setTimeout(end, 50, true, "this page's Content-Security-Policy allows framing the viewer");
    };
  });
}

/** Whether a viewer window could report back: not under `Cross-Origin-Opener-Policy` isolation. */
async function opener() {
  let policy = '';
  try {
    policy = (await fetch(location.href, { method: 'HEAD' })).headers.get('Cross-Origin-Opener-Policy') || '';
  } catch (unreadable) {
    // this page's own headers cannot be read: judged by crossOriginIsolated alone
  }
  return globalThis.crossOriginIsolated || /^same-origin/.test(policy)
    ? [false, 'this page sets Cross-Origin-Opener-Policy: a viewer window cannot report back to it; use an iframe']
    : [true, 'a viewer window can report to this page'];
}

/**
 * `diagnose()`: a preflight report, each check `{ok, detail}` with `ok` null when it cannot be made
 * here, and `ok` overall (no check false). `popup` is what the facade's trial popup gave: it opens
 * one only when `diagnose()` is called inside a user gesture (undefined otherwise; null if blocked).
 */
export async function diagnose(wasm, renews, popup) {
  const webserver = wasm.setting(WEBSERVER);
  const expires = wasm.setting(LOGIN_KEY_EXPIRES) - Date.now() / 1000;
  const report = {};
  const check = (name, ok, detail) => (report[name] = { ok, detail });
  check('webserver', ...(await reach(webserver, wasm.setting(REQUEST_TIMEOUT))));
  if (renews) check('credentials', true, 'getLoginKey provides login keys');
  else if (expires > 0) check('credentials', true, 'the login key expires in ' + Math.floor(expires) + ' s');
  else check('credentials', false, expires <= 0 ? 'the login key has expired' : 'not authenticated');
  if (popup === undefined) check('popups', null, 'not tried: call diagnose() from a click to try opening a popup');
  else check('popups', !!popup, popup ? 'a popup opened' : 'the browser blocked a popup');
  check('opener', ...(await opener()));
  check('framing', ...(await frameable(webserver + '/agentjoin/AgentView.aspx')));
  report.ok = Object.values(report).every((item) => item.ok !== false);
  return report;
}
