// The calls beyond the API reference that not every console makes: SAML sign-in, login keys that
// renew, `inSession` and `diagnose`. The facade loads this file on their first use, so consoles that never call them never
// download it. Each is one request or one hidden frame; the module holds the state (credentials,
// webserver) and builds what carries credentials.

import { postForm } from './dom.js';
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

/** A hidden iframe on `url`, in the page until `remove()`. */
function hiddenFrame(url) {
  const frame = document.createElement('iframe');
  frame.hidden = true;
  frame.src = url;
  return document.documentElement.appendChild(frame);
}

/**
 * SAML sign-in: the identity provider's page, in a hidden iframe, posts `authenticateSucceeded` with
 * `loginKey` = `partnerid=<pid>&partneruserid=<puid>~<loginkey>`, or `authenticateFailed`; silence
 * fails after 12 s. Fires the outcome as the same-named event (without the login key: it is a secret)
 * and settles with it: rejected with code `authentication_failed` and the `reason`.
 */
export function signOn(wasm, hint, value) {
  if (!(typeof value == 'string' || typeof value == 'number') || String(value).length > MAX_HINT_LENGTH) {
    throw codedError('invalid_credentials', 'invalid credentials: ' + hint + ' must be a string of at most 256 characters');
  }
  const url = wasm.setting(WEBSERVER) + '/account/getloginkey.aspx?' +
    new URLSearchParams({ sso: 1, mode: 'embedded', fmt: 'html', [hint]: value });
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
    const heard = ({ source, origin, data: message }) => {
      if (source !== frame.contentWindow || origin !== new URL(url).origin || !message) return;
      const data = message.data || {};
      if (message.glanceEvent === 'authenticateFailed') end(String(data.reason || 'the identity provider refused'));
      if (message.glanceEvent !== 'authenticateSucceeded') return;
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
 * `authenticate({getLoginKey})`: returns what runs each call that sends the login key. The page's
 * `getLoginKey` is called (one call at a time) when no key is held, when the key expires within 60 s,
 * and once more when the service refuses the key (`service_error`). Its keys are stored while
 * `isCurrent()`, that is until the page authenticates otherwise.
 */
export function renewingKeys(wasm, getLoginKey, isCurrent) {
  let renewing = null;
  const renew = () => (renewing = renewing || Promise.resolve()
    .then(getLoginKey)
    .then((credentials) => {
      if (isCurrent()) wasm.authenticate(...credentialValues(credentials));
    }, (cause) => {
      throw codedError('authentication_failed', 'getLoginKey failed: ' + ((cause && cause.message) || cause), cause);
    })
    .finally(() => { renewing = null; }));
  return (call) => {
    const fresh = wasm.setting(LOGIN_KEY_EXPIRES) - Date.now() / 1000 > RENEW_BEFORE_S;
    return (fresh ? call() : renew().then(call)).catch((error) => {
      if (error.code !== 'service_error') throw error;
      return renew().then(call);
    });
  };
}

/** The sessions of an `AgentInSession` answer (`postForm`'s), or a coded Error as a lookup would fail. */
function readSessions(status, text, answer) {
  const reason = text.trim().slice(0, 2000) || 'HTTP ' + status;
  const message = 'the Glance service refused the request: ';
  if (status >= 500 || status == 408 || status == 429) throw refused('service_unavailable', message, reason);
  const elements = (parent, tag) => parent.getElementsByTagNameNS('*', tag);
  if (status > 299 || !answer || elements(answer, 'parsererror')[0] || elements(answer, 'Error')[0]) {
    throw refused('service_error', message, reason);
  }
  return Array.from(elements(answer, 'session2'), (session) => {
    const fields = {};
    for (const field of IN_SESSION_FIELDS) fields[field] = (elements(session, field)[0] || {}).textContent || '';
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
  const limit = AbortSignal.timeout(wasm.setting(REQUEST_TIMEOUT));
  let answer;
  try {
    answer = await postForm(wasm.setting(WEBSERVER) + IN_SESSION_PATH, body, signal ? AbortSignal.any([signal, limit]) : limit);
  } catch (failure) {
    if (signal && signal.aborted) throw canceled();
    const reason = limit.aborted ? 'the request timed out' : failure.message || 'network error';
    throw refused('service_unavailable', 'the Glance service could not be reached: ', reason, failure);
  }
  const sessions = readSessions(...answer);
  return all ? sessions : sessions.length > 0;
}

/** Whether the webserver answers this page, CORS included. */
async function reach(webserver, timeout) {
  const post = (mode) => fetch(webserver + IN_SESSION_PATH, {
    method: 'POST', mode, signal: AbortSignal.timeout(timeout),
  });
  try {
    const response = await post('cors');
    return [response.status < 500, 'HTTP ' + response.status + ' from ' + webserver];
  } catch (failure) {
    const opaque = await post('no-cors').catch(() => null);
    return [false, opaque
      ? webserver + ' answers, but not to this origin (CORS): ask Glance to allow ' + location.origin
      : webserver + ' cannot be reached: ' + failure.message];
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
      if (url.startsWith(event.blockedURI)) {
        end(false, "this page's Content-Security-Policy (" + event.violatedDirective + ') forbids framing the viewer');
      }
    };
    const timer = setTimeout(() => end(null, 'the viewer page did not load within 5 s'), FRAME_PROBE_MS);
    addEventListener('securitypolicyviolation', violated);
    // A blocked frame loads an error page; the violation is reported first, so a load ends the probe.
    frame.onload = () => setTimeout(end, 50, true, "this page's Content-Security-Policy allows framing the viewer");
  });
}

/**
 * `diagnose()`: a preflight report, each check `{ok, detail}` with `ok` null when it cannot be made
 * here, and `ok` overall (no check false). Popups are tried only when `diagnose()` was called inside a
 * user gesture (`gesture`): a page cannot open one otherwise, and the try spends the gesture.
 */
export async function diagnose(wasm, renews, gesture) {
  const webserver = wasm.setting(WEBSERVER);
  const expires = wasm.setting(LOGIN_KEY_EXPIRES) - Date.now() / 1000;
  const report = {};
  const check = (name, ok, detail) => (report[name] = { ok, detail });
  check('webserver', ...(await reach(webserver, wasm.setting(REQUEST_TIMEOUT))));
  if (renews) check('credentials', true, 'getLoginKey provides login keys');
  else if (expires > 0) check('credentials', true, 'the login key expires in ' + Math.floor(expires) + ' s');
  else check('credentials', false, expires <= 0 ? 'the login key has expired' : 'not authenticated');
  check('popups', null, 'not tried: call diagnose() from a click to try opening a popup');
  if (gesture) {
    const view = open('about:blank', '_blank', 'width=100,height=100');
    check('popups', !!view, view ? 'a popup opened' : 'the browser blocked a popup');
    if (view) view.close();
  }
  check('opener', !crossOriginIsolated, crossOriginIsolated
    ? 'this page is cross-origin isolated (COOP): a viewer window cannot report back; use an iframe'
    : 'a viewer window can report to this page');
  check('framing', ...(await frameable(webserver + '/agentjoin/AgentView.aspx')));
  report.ok = Object.values(report).every((item) => item.ok !== false);
  return report;
}
