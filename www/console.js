// The demo agent console: finds the local Glance service, signs in with a development login key, and
// shows what GLANCE.Agent does: the state of the join at a glance, and every event in a log.
'use strict';

const $ = (id) => document.getElementById(id);

// The reference's lookup window: attempts at 0 s, 3 s x6, then 5 s, 12 in all.
const LOOKUP_WINDOW_MS = 45000;
const LOOKUP_ATTEMPTS = 12;
const MAX_LOG_ROWS = 500;
const FETCH_TIMEOUT_MS = 5000;

const STATE_LABELS = {
  idle: 'Idle',
  waiting: 'Waiting for the session',
  found: 'Session found',
  'viewer-open': 'Viewer open',
  'in-session': 'In session',
  ended: 'Session ended',
  'viewer-closed': 'Viewer closed',
  failed: 'Failed',
  canceled: 'Canceled',
  asking: 'Asking the visitor',
};

// The presence indicator: what the console shows for each state it derives.
const PRESENCE_LABELS = {
  idle: 'Not watching',
  connecting: 'Connecting…',
  offline: 'Not on the site',
  online: 'On the site',
  hidden: 'On the site · tab hidden',
};

const CALL_TYPES = { C: 'cobrowse', G: 'screenshare', V: 'video' };

// Screenshare `sessionEnded` status codes, from the API reference's table.
const END_STATUS = {
  17: ['FAIL_VERSION', 'protocol version mismatch'],
  18: ['FAIL_UNAUTHORIZED', 'bad server key or insufficient privileges'],
  19: ['FAIL_NO_SESSION', 'session no longer running'],
  20: ['FAIL_REJECT_ENCRYPT', 'reject encrypt error from server'],
  21: ['FAIL_UNKNOWN', 'unknown error'],
  23: ['SESSION_ENDED', 'ended from the agent side'],
  24: ['SESSION_ENDED_QUIT', 'ended from the other side'],
  25: ['SESSION_ENDED_TIMEOUT'],
  26: ['SESSION_ENDED_KILLED'],
  27: ['SESSION_ENDED_CONN_DEAD'],
  28: ['SESSION_ENDED_CALL_DEAD'],
  29: ['SESSION_ENDED_ERROR'],
  30: ['SESSION_ENDED_UNKNOWN'],
  31: ['SESSION_ENDED_DECLINED'],
  32: ['CANT_CONNECT'],
  34: ['CANT_RECONNECT'],
  35: ['SESSION_FULL', 'max guests in session already reached'],
  36: ['SESSION_ENDED_REPLACED'],
};

// Events the library itself fires; and screenshare events, which production may send without `service`.
const AGENT_EVENTS = new Set(['lookupWaiting', 'lookupFound', 'lookupFailed', 'lookupCanceled',
  'popupblocked', 'iframeblocked', 'viewerOpened', 'viewerResumed', 'viewerClosed']);
const SCREENSHARE_EVENTS = new Set(['connected', 'screen', 'stats', 'conndrop']);

const agent = window.GLANCE && window.GLANCE.Agent;

// ---------------------------------------------------------------------------------------------------
// Small helpers

const pad = (number, width = 2) => String(number).padStart(width, '0');
const clock = (date) => `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
const clockMs = (date) => `${clock(date)}.${pad(date.getMilliseconds(), 3)}`;
const hoursMinutes = (seconds) => clock(new Date(seconds * 1000)).slice(0, 5);
const trimSlash = (url) => url.replace(/\/+$/, '');

/** A fetch of JSON that gives up after a few seconds, so a dead service is reported, not waited on. */
async function fetchJson(url) {
  const response = await fetch(url, { cache: 'no-store', signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  if (!response.ok) throw new Error(`HTTP ${response.status} from ${url}`);
  return response.json();
}

/** "in 59 min", "in 2 h 5 min", "3 min ago": how far `seconds` (Unix time) is from now. */
function fromNow(seconds) {
  const minutes = Math.round((seconds * 1000 - Date.now()) / 60000);
  const span = Math.abs(minutes);
  const hours = Math.floor(span / 60);
  const text = span < 1 ? 'under a minute'
    : span < 120 ? `${span} min`
    : hours < 48 ? `${hours} h${span % 60 ? ` ${span % 60} min` : ''}`
    : `${Math.floor(hours / 24)} days`;
  return minutes >= 0 ? `in ${text}` : `${text} ago`;
}

/** The expiry of a `$1$<expires>$<signature>` key, or null if the key does not have that shape. */
function keyExpiry(loginkey) {
  const match = /^\$1\$(\d+)\$/.exec(loginkey);
  return match ? Number(match[1]) : null;
}

/** `$1$…zQeI`: enough to tell keys apart without showing one. */
function shortKey(loginkey) {
  return loginkey.length > 10 ? `${loginkey.slice(0, 3)}…${loginkey.slice(-4)}` : '…';
}

/** A service's XML error document, as the words inside it ("Login key invalid"). */
function readable(text) {
  return String(text)
    .replace(/<\?xml[^>]*\?>/g, '')
    .replace(/<\/?[A-Za-z][\w:.-]*(?:\s[^<>]*)?\/?>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** "the lookup was canceled" → "The lookup was canceled.", for the state panel. */
function sentence(text) {
  const trimmed = String(text).trim();
  if (!trimmed) return '';
  return trimmed[0].toUpperCase() + trimmed.slice(1) + (/[.!?…]$/.test(trimmed) ? '' : '.');
}

/** The service an event belongs to, for its tag. */
function serviceOf(name, data) {
  if (data && typeof data.service === 'string') return data.service;
  if (AGENT_EVENTS.has(name)) return 'agent';
  if (SCREENSHARE_EVENTS.has(name) || (name === 'sessionEnded' && data && 'status' in data)) return 'screenshare';
  return '';
}

// ---------------------------------------------------------------------------------------------------
// Payloads: JSON-like text, coloured by token. Functions (lookupWaiting's cancel) show as ƒ, and
// anything that is not plain data (a Window, a cycle) is named instead of walked.

function renderValue(value, into, pretty, depth = 0, seen = new WeakSet()) {
  const token = (text, kind) => {
    const span = document.createElement('span');
    span.className = `j-${kind}`;
    span.textContent = text;
    into.append(span);
  };
  const text = (content) => into.append(content);
  const newline = (level) => pretty && text(`\n${'  '.repeat(level)}`);

  if (typeof value === 'function') return token('ƒ', 'fn');
  if (typeof value === 'string') return token(JSON.stringify(value), 'str');
  if (typeof value === 'number' || typeof value === 'bigint') return token(String(value), 'num');
  if (value === null || value === undefined || typeof value === 'boolean') return token(String(value), 'lit');
  if (typeof value !== 'object') return token(String(value), 'lit');

  let entries;
  try {
    const plain = Array.isArray(value) || [Object.prototype, null].includes(Object.getPrototypeOf(value));
    if (!plain) return token(`[${Object.prototype.toString.call(value).slice(8, -1)}]`, 'lit');
    if (seen.has(value)) return token('[circular]', 'lit');
    if (depth > 8) return token('…', 'lit');
    entries = Array.isArray(value) ? value.map((item) => [null, item]) : Object.entries(value);
  } catch (error) {
    return token('[unreadable]', 'lit'); // a cross-origin object
  }
  seen.add(value);
  const [open, close] = Array.isArray(value) ? ['[', ']'] : ['{', '}'];
  if (entries.length === 0) {
    text(open + close);
  } else {
    text(open);
    entries.forEach(([key, item], index) => {
      if (index > 0) text(pretty ? ',' : ', ');
      newline(depth + 1);
      if (key !== null) {
        token(JSON.stringify(key), 'key');
        text(': ');
      }
      renderValue(item, into, pretty, depth + 1, seen);
    });
    newline(depth);
    text(close);
  }
  seen.delete(value);
}

// ---------------------------------------------------------------------------------------------------
// The event log

const log = {
  count: 0,

  add(name, data) {
    const service = serviceOf(name, data);
    const row = document.createElement('li');
    row.className = 'event';
    row.dataset.event = name;
    row.dataset.service = service;
    row.title = 'Click to show the whole payload';

    const time = document.createElement('span');
    time.className = 'event-time';
    time.textContent = clockMs(new Date());
    const label = document.createElement('span');
    label.className = 'event-name';
    label.textContent = name;
    const tag = document.createElement('span');
    tag.className = 'tag';
    tag.dataset.service = service;
    tag.textContent = service || '—';
    const payload = document.createElement('pre');
    payload.className = 'event-payload';
    renderValue(data, payload, false);

    row.append(time, label, tag, payload);
    // Rendered again on demand, compact or indented.
    row.addEventListener('click', () => {
      if (window.getSelection().toString()) return; // selecting text to copy is not a click
      const open = row.classList.toggle('open');
      payload.replaceChildren();
      renderValue(data, payload, open);
    });

    const list = $('event-log');
    list.prepend(row);
    while (list.childElementCount > MAX_LOG_ROWS) list.lastElementChild.remove();
    this.count += 1;
    this.show();
  },

  clear() {
    $('event-log').replaceChildren();
    this.count = 0;
    this.show();
  },

  show() {
    $('log-empty').hidden = this.count > 0;
    $('event-count').textContent = this.count === 0 ? 'newest first'
      : `${this.count} event${this.count === 1 ? '' : 's'} · newest first`;
  },
};

// ---------------------------------------------------------------------------------------------------
// The state panel. The latest event decides the state; a rejected promise shows its code and message.

const view = {
  state: 'idle',
  lookup: null, // {key, started, attempt} of the lookup being waited on
  ticker: null,
  openViewers: 0,
  closeViewer: null, // viewerOpened's close(), for the newest viewer
  ended: '', // why the last session ended, kept for viewerClosed

  set(state, detail, code = '') {
    this.state = state;
    $('state').dataset.state = state;
    $('state').closest('.card').dataset.state = state;
    $('state-label').textContent = STATE_LABELS[state];
    $('state-code').textContent = code;
    $('state-code').hidden = !code;
    $('state-detail').textContent = detail;
    if (state === 'waiting') this.startCountdown();
    else this.stopCountdown();
  },

  startCountdown() {
    $('countdown-box').hidden = false;
    this.tick();
    if (!this.ticker) this.ticker = setInterval(() => this.tick(), 200);
  },

  stopCountdown() {
    clearInterval(this.ticker);
    this.ticker = null;
    $('countdown-box').hidden = true;
    $('countdown').textContent = '';
  },

  tick() {
    if (!this.lookup) return;
    const left = Math.max(0, LOOKUP_WINDOW_MS - (performance.now() - this.lookup.started));
    $('countdown').textContent = `${Math.ceil(left / 1000)} s`;
    $('countdown-fill').style.width = `${(left / LOOKUP_WINDOW_MS) * 100}%`;
    $('attempt').textContent = `attempt ${this.lookup.attempt} of ${LOOKUP_ATTEMPTS}`;
  },

  /** Follows one event of the library or a viewer. */
  follow(name, data) {
    const payload = data || {};
    const service = serviceOf(name, payload);
    $('state-last').textContent = `Last: ${name} · ${clock(new Date())}`;
    switch (name) {
      case 'lookupWaiting': {
        // A lookup's countdown starts at its first lookupWaiting; later ones are its retries.
        const key = String(payload.ssnkey);
        if (!this.lookup || this.state !== 'waiting' || this.lookup.key !== key) {
          this.lookup = { key, started: performance.now(), attempt: 0 };
        }
        this.lookup.attempt += 1;
        this.set('waiting', `Looking up session ${key}: the viewer opens as soon as the visitor starts it.`);
        break;
      }
      case 'lookupFound': {
        const kind = CALL_TYPES[payload.calltype] || payload.calltype || 'unknown';
        this.set('found', `Session ${payload.passcode || this.lookup?.key || ''} found: ${kind} (${payload.calltype || '?'}), ssnid ${payload.ssnid || '–'}.`);
        break;
      }
      case 'lookupFailed':
        this.set('failed', sentence(`The lookup failed: ${readable(payload.reason || 'no reason given')}`));
        break;
      case 'lookupCanceled':
        this.set('canceled', `The lookup of session ${payload.ssnkey ?? ''} was canceled.`);
        break;
      case 'popupblocked':
        this.set('failed', 'The browser blocked the viewer window. Allow pop-ups for this page, or tick “Open the viewer in this page”.');
        break;
      case 'iframeblocked':
        this.set('failed', 'The viewer frame could not be loaded.');
        break;
      case 'viewerOpened':
        this.openViewers += 1;
        this.closeViewer = typeof payload.close === 'function' ? payload.close : null;
        this.set('viewer-open', $('use-iframe').checked
          ? 'The viewer is open below; it reports in when it connects to the session.'
          : 'The viewer window is open; it reports in when it connects to the session.');
        break;
      case 'viewerResumed': {
        // After a reload: the viewer window this tab opened before it is still open, and taken back.
        this.openViewers += 1;
        this.closeViewer = typeof payload.close === 'function' ? payload.close : null;
        const session = (agent.sessions || []).find((entry) => entry.ssnkey === payload.ssnkey);
        this.set('viewer-open', `Taken back after the reload: the viewer of session ${payload.ssnkey}${session && session.ssnid ? ` (ssnid ${session.ssnid})` : ''} is still open, and its events reach this page again.`);
        break;
      }
      case 'viewerClosed':
        this.openViewers = Math.max(0, this.openViewers - 1);
        if (this.openViewers === 0) this.closeViewer = null;
        this.set('viewer-closed', this.state === 'ended'
          ? `The viewer was closed after the session ended (${this.ended}).`
          : 'The viewer was closed.');
        break;
      case 'connecting':
        if (service !== 'agent') {
          const key = payload.ssnkey || payload.visitorid || '';
          const type = payload.calltype ? ` (${payload.calltype})` : '';
          this.set('in-session', `Connected to ${service || 'the'} session ${key}${type}.`);
        }
        break;
      case 'presenceOnTerms':
        if (payload.status === 'displayed') this.set('asking', 'The visitor sees the terms: waiting for Accept or Decline.');
        else if (payload.status === 'accepted') this.set('asking', 'The visitor accepted: their session is starting.');
        break;
      case 'presenceSessionStart':
        this.set('found', `The visitor started session ${payload.ssnkey}: joining it.`);
        break;
      case 'sessionEnded':
        this.ended = endedText(payload);
        this.set('ended', `The ${service || 'viewer'} session ended: ${this.ended}.`);
        break;
      default:
        break;
    }
    $('close-viewer').hidden = this.openViewers === 0;
  },

  /** A rejected promise of join/openViewer: its code and message. */
  reject(error) {
    const code = (error && error.code) || 'error';
    const message = sentence(readable((error && error.message) || error));
    if (code === 'canceled') {
      this.set('canceled', message, code);
    } else if (code === 'popup_blocked') {
      this.set('failed', `${message} Or tick “Open the viewer in this page”.`, code);
    } else {
      this.set('failed', message, code);
    }
  },
};

/** "status 24 SESSION_ENDED_QUIT, ended from the other side" or the cobrowse reason. */
function endedText(data) {
  if (typeof data.status === 'number') {
    const [name, meaning] = END_STATUS[data.status] || ['(not in the reference)'];
    return `status ${data.status} ${name}${meaning ? `, ${meaning}` : ''}${data.iserror ? ' (an error)' : ''}`;
  }
  return data.reason || 'no reason given';
}

// ---------------------------------------------------------------------------------------------------
// Joining. A newer action supersedes an older one, so a late rejection cannot overwrite fresh state.

let actionNumber = 0;

function viewerParams() {
  return $('use-iframe').checked ? { iframe: 'viewer-frame' } : {};
}

function start(call) {
  const ticket = ++actionNumber;
  const key = $('session-key').value.trim();
  view.lookup = null;
  let promise;
  try {
    promise = call(key, viewerParams());
  } catch (error) {
    promise = Promise.reject(error);
  }
  Promise.resolve(promise).catch((error) => {
    if (ticket === actionNumber) view.reject(error);
  });
}

// ---------------------------------------------------------------------------------------------------
// Presence: the visitor being watched, at a glance. The library's presenceState and visitorConnected
// say where the connection is; the last presence and presenceVisibility events say where the visitor is.

const presence = {
  page: '',
  hidden: false,

  render() {
    const watching = agent.presenceState;
    let state = 'idle';
    if (watching === 'connecting' || watching === 'reconnecting') state = agent.visitorConnected ? 'online' : 'connecting';
    if (watching === 'connected') state = agent.visitorConnected ? 'online' : 'offline';
    if (state === 'online' && this.hidden) state = 'hidden';
    const on = state === 'online' || state === 'hidden';
    $('presence').dataset.state = state;
    $('presence-label').textContent = watching === 'reconnecting' && !on ? 'Reconnecting…' : PRESENCE_LABELS[state];
    $('presence-page').textContent = on && this.page ? this.page : '';
    $('presence-start').disabled = !on;
  },

  /** Follows one event; presence events carry `service: "presence"`. */
  follow(name, data) {
    const payload = data || {};
    if (name === 'visitorData' || name === 'presence') {
      if (typeof payload.url === 'string') this.page = payload.url;
    } else if (name === 'presenceVisibility') {
      this.hidden = payload.visibility === 'hidden';
    } else if (name === 'visitorConnected' && !payload.connected) {
      this.page = '';
      this.hidden = false;
    } else if (!(name.startsWith('presence') || name === 'visitorConnected')) {
      return;
    }
    this.render();
  },

  watch() {
    const visitorid = $('visitor-id').value.trim();
    this.page = '';
    this.hidden = false;
    const ticket = ++actionNumber;
    agent.presenceConnect(visitorid).catch((error) => {
      if (ticket === actionNumber) view.reject(error);
    }).finally(() => this.render());
    this.render();
    updateVisitorLink();
  },

  stop() {
    agent.presenceDisconnect();
    this.render();
  },
};

/** Shows one way of reaching the visitor: by session key, or by presence. */
function setMode(mode) {
  const isPresence = mode === 'presence';
  $('mode-key').setAttribute('aria-selected', String(!isPresence));
  $('mode-presence').setAttribute('aria-selected', String(isPresence));
  $('join-form').hidden = isPresence;
  $('presence-form').hidden = !isPresence;
  for (const steps of document.querySelectorAll('.steps')) steps.hidden = steps.dataset.mode !== mode;
  updateVisitorLink();
}

// ---------------------------------------------------------------------------------------------------
// Credentials

const credentials = {
  expires: null,
  source: '', // 'dev' or 'typed'
  who: '',
  timer: null,

  /** The badge in the top bar; `note` is the longer story, shown in the settings card. */
  status(status, text, note = '') {
    const pill = $('credentials-status');
    pill.dataset.status = status;
    pill.textContent = text;
    pill.title = note || text;
    $('settings-note').textContent = note;
    $('settings-note').dataset.status = status;
    $('settings-note').hidden = !note;
  },

  /** Sets GLANCE.Agent.webserver from the settings; false (with the reason shown) if it is refused. */
  async setWebserver() {
    try {
      await agent.ready; // calls queued before the module loads report errors on the console only
      agent.webserver = $('webserver').value.trim();
    } catch (error) {
      const what = error.code === 'load_failed' ? 'The glance-agent module did not load' : 'Webserver refused';
      this.status('error', `${what} (${error.code})`, sentence(error.message));
      return false;
    }
    updateVisitorLink();
    return true;
  },

  /** Sends the settings to GLANCE.Agent; false (with the reason shown) if it refuses them. */
  async apply(source) {
    if (!(await this.setWebserver())) return false;
    const loginkey = $('loginkey').value.trim();
    const partnerid = $('partnerid').value.trim();
    const partneruserid = $('partneruserid').value.trim();
    try {
      agent.authenticate({ loginkey, partnerid, partneruserid });
    } catch (error) {
      this.status('error', `Credentials refused (${error.code})`, `${sentence(error.message)} Earlier credentials stay in use.`);
      this.expires = null;
      this.showKey();
      return false;
    }
    this.expires = keyExpiry(loginkey);
    this.who = `${partneruserid} · partner ${partnerid}`;
    this.source = source;
    this.show();
    return true;
  },

  show() {
    this.showKey();
    if (this.expires === null) return;
    const expired = this.expires * 1000 <= Date.now();
    const when = `${hoursMinutes(this.expires)} (${fromNow(this.expires)})`;
    if (expired) {
      this.status('expired', `Login key expired at ${when}`, 'The login key has expired: press “Get a dev key”, or paste a new key and press Authenticate.');
    } else {
      const from = this.source === 'dev' ? 'Credentials loaded from the dev service' : 'Authenticated';
      this.status('ok', `${from} · ${this.who} · key expires ${when}`);
    }
  },

  showKey() {
    const key = $('loginkey').value.trim();
    const info = $('loginkey-info');
    const expires = keyExpiry(key);
    if (!key) {
      info.textContent = 'No login key yet.';
      delete info.dataset.status;
    } else if (expires === null) {
      info.textContent = 'Not a $1$<expires>$<signature> key';
      info.dataset.status = 'expired';
    } else {
      const expired = expires * 1000 <= Date.now();
      info.textContent = `Key ${shortKey(key)} · ${expired ? 'expired' : 'expires'} ${hoursMinutes(expires)}, ${fromNow(expires)}`;
      if (expired) info.dataset.status = 'expired';
      else delete info.dataset.status;
    }
  },

  /** Asks the service's development endpoints for the agent and a fresh key, then authenticates. */
  async fromDevService() {
    const base = trimSlash(httpUrl($('webserver').value.trim()) || agent.webserver);
    this.status('loading', `Asking ${base} for credentials…`);
    let config;
    let minted;
    try {
      config = await fetchJson(`${base}/dev/config`);
      const query = new URLSearchParams({ partnerid: config.partnerid, partneruserid: config.partneruserid });
      minted = await fetchJson(`${base}/dev/loginkey?${query}`);
    } catch (error) {
      if (!(await this.setWebserver())) return false;
      this.status('warning', `No dev service at ${base}: type the credentials`,
        `Could not reach ${base}/dev/config (${error.message}). Type the credentials your server made and press Authenticate.`);
      this.showKey();
      return false;
    }
    $('partnerid').value = minted.partnerid;
    $('partneruserid').value = minted.partneruserid;
    $('loginkey').value = minted.loginkey;
    return this.apply('dev');
  },
};

// ---------------------------------------------------------------------------------------------------
// Wiring

/** `text` if it is an http(s) URL, else null: it ends up in links and fetches, so nothing else may. */
function httpUrl(text) {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:' ? text : null;
  } catch (error) {
    return null;
  }
}

/** The visitor simulator: with the session key, or (Presence) on the site as the visitor id. */
function updateVisitorLink() {
  const base = trimSlash(httpUrl($('webserver').value.trim()) || agent.webserver);
  const query = $('presence-form').hidden
    ? new URLSearchParams({ key: $('session-key').value.trim() })
    : new URLSearchParams({ visitorid: $('visitor-id').value.trim() });
  $('visitor-link').href = `${base}/visitor?${query}`;
}

/** `?webserver=` first, else the console server's demo-config.json, else the library's default. */
async function findWebserver(params) {
  const given = httpUrl(params.get('webserver') || '');
  if (given) return given;
  try {
    const config = await fetchJson('demo-config.json');
    if (typeof config.webserver === 'string' && httpUrl(config.webserver)) return config.webserver;
  } catch (error) {
    // Served some other way: fall through to the default.
  }
  return agent.webserver;
}

function bindControls() {
  $('join-form').addEventListener('submit', (event) => {
    event.preventDefault();
    start((key, params) => agent.joinSession(key, params));
  });
  $('open-viewer').addEventListener('click', () => start((key, params) => agent.openViewer(key, params)));
  $('cancel').addEventListener('click', () => {
    try {
      agent.cancelLookup();
    } catch (error) {
      view.reject(error);
    }
  });
  $('close-viewer').addEventListener('click', () => view.closeViewer && view.closeViewer());

  $('mode-key').addEventListener('click', () => setMode('key'));
  $('mode-presence').addEventListener('click', () => setMode('presence'));
  $('presence-form').addEventListener('submit', (event) => {
    event.preventDefault();
    presence.watch();
  });
  $('presence-stop').addEventListener('click', () => presence.stop());
  // From the click itself: the viewer's window opens inside it, so no popup blocker stops it.
  $('presence-start').addEventListener('click', () => {
    view.set('asking', 'Asking the visitor to share their screen…');
    start((key, params) => agent.presenceStartSession(undefined, undefined, params));
  });
  $('visitor-id').addEventListener('input', updateVisitorLink);

  $('use-iframe').addEventListener('change', () => { $('viewer-card').hidden = !$('use-iframe').checked; });
  $('session-key').addEventListener('input', updateVisitorLink);
  $('webserver').addEventListener('input', updateVisitorLink);

  $('settings-form').addEventListener('submit', (event) => {
    event.preventDefault();
    credentials.apply('typed');
  });
  $('new-key').addEventListener('click', () => credentials.fromDevService());
  $('loginkey').addEventListener('input', () => credentials.showKey());
  $('reveal-key').addEventListener('click', () => {
    const field = $('loginkey');
    const reveal = field.type === 'password';
    field.type = reveal ? 'text' : 'password';
    $('reveal-key').textContent = reveal ? 'Hide' : 'Show';
    $('reveal-key').setAttribute('aria-pressed', String(reveal));
  });

  $('clear-log').addEventListener('click', () => log.clear());
}

async function main() {
  if (!agent) {
    view.set('failed', 'GLANCE.Agent is missing: dist/script/glance-agent.js did not load. Run `make build`.', 'load_failed');
    credentials.status('error', 'The glance-agent script is missing', 'dist/script/glance-agent.js did not load: run `make build`.');
    return;
  }
  // First, so that no event is missed; the library queues this until its module has loaded.
  agent.addEventListenerAll((name, data) => {
    log.add(name, data);
    view.follow(name, data);
    presence.follow(name, data);
  });
  bindControls();
  log.show();
  agent.ready.catch((error) => view.set('failed', error.message, error.code || 'load_failed'));

  const params = new URLSearchParams(location.search);
  $('session-key').value = params.get('key') || '1234';
  $('visitor-id').value = params.get('visitorid') || 'visitor-1';
  setMode(params.has('visitorid') ? 'presence' : 'key');
  presence.render();
  // presenceState changes between events too (reconnecting): the indicator keeps up.
  setInterval(() => presence.render(), 1000);
  $('viewer-card').hidden = !$('use-iframe').checked; // a reload may keep the box ticked
  $('webserver').value = await findWebserver(params);
  updateVisitorLink();
  credentials.showKey();
  await credentials.fromDevService();
  // Keeps "expires in …" true, and turns the badge red when the key runs out.
  credentials.timer = setInterval(() => credentials.show(), 15000);
}

main();
