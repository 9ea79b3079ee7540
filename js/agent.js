// The GLANCE.Agent object: complete at once, forwarding to the wasm module once it has loaded.
// Calls made before then are queued and run in order; promise-returning calls return their promise at
// once. Checks, state, requests that poll, and events live in the module; the facade adds what is
// cheapest in JavaScript (a few lines here, where the module would need bindings and closures):
// `params.signal`, listener disposers, `once`, login keys that renew. The calls beyond the reference
// that not every console makes (SAML sign-in, `inSession`, `diagnose`) are in js/extras.js, loaded
// on their first use.

import { canceled, codedError, credentialValues } from './shared.js';

const PROMISED = ['lookupSession', 'joinSession', 'openViewer', 'openAgentJoinURL', 'inSession'];
// The module's `listen(kind, ...)`, by kind.
const LISTENER_CALLS = ['removeEventListener', 'addEventListener', 'removeEventListenerAll', 'addEventListenerAll'];
// `authenticate({<hint>: value})` signs in through the identity provider (PROTOCOL.md section 1).
const SSO_HINTS = ['idpid', 'idpname', 'idptoken', 'idpusername'];
// `setting(NEWEST_LOOKUP)`: the id of the newest lookup in progress.
const NEWEST_LOOKUP = 4;
// Properties the module holds (`setting(n)`, `configure(n, value)`; n is the index here), with their
// values until the module has loaded.
const PROPERTIES = [
  ['webserver', 'https://www.glance.net'],
  ['postParametersToViewer', true],
  ['requestTimeout', 10000],
];

function loadError(cause) {
  return codedError('load_failed', 'GLANCE.Agent could not load: ' + (cause?.message || cause), cause);
}

/**
 * Runs a promise-returning call of the loaded module. `signal` never reaches the module: its abort
 * cancels the lookup the call started (by its id). `inSession` runs in js/extras.js (`extras()` loads it).
 */
function run(wasm, name, args, signal, extras) {
  if (name === 'inSession') return extras().then((extra) => extra.inSession(wasm, args[0], signal));
  if (!signal) return wasm[name](...args);
  const newest = wasm.setting(NEWEST_LOOKUP);
  const promise = wasm[name](...args);
  const started = wasm.setting(NEWEST_LOOKUP);
  if (started !== newest) {
    const abort = () => wasm.cancelLookup(started);
    const done = () => signal.removeEventListener('abort', abort);
    signal.addEventListener('abort', abort);
    promise.then(done, done);
  }
  return promise;
}

/** A call queued until the module loaded has no caller left to throw to: the console hears of it. */
function reportQueued(name, error) {
  console.error('GLANCE.Agent.' + name + ' failed:', error);
}

/**
 * @param {(options?: object) => Promise<object>} loadModule resolves to the wasm module's exports
 * @param {() => Promise<object>} loadExtras resolves to js/extras.js
 */
export function createAgent(loadModule, loadExtras) {
  let wasm = null;
  let extrasLoading = null;
  let failure = null;
  let loading = null;
  let queue = [];
  const pending = {};
  const agent = {};

  /** js/extras.js, loaded after the module on the first call that needs it (a failed load is retried). */
  function extras() {
    extrasLoading = extrasLoading || load().then(loadExtras).catch((cause) => {
      extrasLoading = null;
      throw failure || loadError(cause);
    });
    return extrasLoading;
  }

  function flush() {
    const calls = queue;
    queue = [];
    for (const call of calls) call();
  }

  // Starts loading once; later calls return the same promise.
  function load(options) {
    if (!loading) {
      loading = Promise.resolve()
        .then(() => loadModule(options))
        .then(
          (module) => { wasm = module; flush(); return agent; },
          (cause) => { failure = loadError(cause); flush(); throw failure; },
        );
      loading.catch(() => {}); // a failed load reaches callers through their own calls
    }
    return loading;
  }

  // After `authenticate({getLoginKey})`: a promise of js/extras.js `renewingKeys`, which runs the calls
  // that send the login key. `signIns` counts authenticate and logout calls: a renewal or SAML sign-in
  // stores a key only while no later one has been made.
  let renewingKeys = null;
  let signIns = 0;

  /**
   * A promise-returning call. `params.signal` is checked here, before anything starts: not an
   * `AbortSignal` rejects `invalid_argument`, already aborted rejects `canceled`.
   * `lookupSession(key, {wait, signal})` becomes `lookupSession(key, wait)`.
   */
  function send(name, args) {
    const params = args[1];
    let signal;
    try {
      if (params === Object(params)) {
        signal = params.signal;
        if (name === 'lookupSession') args = [args[0], params.wait];
      }
      if (signal != null && !(signal instanceof AbortSignal)) throw signal;
    } catch (refused) {
      return Promise.reject(codedError('invalid_argument', 'params.signal must be an AbortSignal', refused));
    }
    if (signal?.aborted) return Promise.reject(canceled());
    const call = () => run(wasm, name, args, signal, extras);
    // `openAgentJoinURL` sends the key only if it holds an unexpired one.
    return renewingKeys && name !== 'openAgentJoinURL' ? renewingKeys.then((withKey) => withKey(call, signal)) : call();
  }

  /** A new way of signing in replaces the last: returns whether it is still the current one. */
  function replaceSignIn(renewing) {
    const mine = ++signIns;
    renewingKeys = renewing;
    return () => mine === signIns;
  }

  for (const name of PROMISED) {
    agent[name] = function (...args) {
      if (wasm) return send(name, args);
      if (failure) return Promise.reject(failure);
      load();
      return new Promise((resolve, reject) => {
        queue.push(() => (failure ? reject(failure) : resolve(send(name, args))));
      });
    };
  }

  /** Runs `name` of the module now, or queues it until the module has loaded. */
  function immediate(name, ...args) {
    if (wasm) return wasm[name](...args);
    if (failure) throw failure;
    load();
    queue.push(() => {
      if (failure) return;
      try { wasm[name](...args); } catch (error) { reportQueued(name, error); }
    });
  }

  agent.close = (viewer) => immediate('close', viewer);
  agent.cancelLookup = () => immediate('cancelLookup');
  // The adders return a disposer: calling it removes what they added (a second call does nothing).
  LISTENER_CALLS.forEach((name, kind) => {
    agent[name] = (...args) => {
      immediate('listen', kind, ...args);
      if (kind & 1) return () => immediate('listen', kind - 1, ...args);
    };
  });

  /**
   * Stores `{loginkey, partnerid, partneruserid}`; or keeps `{getLoginKey}` to ask for keys when needed;
   * or signs in through the identity provider named by `{idpid | idpname | idptoken | idpusername}`
   * and returns a promise of it.
   */
  agent.authenticate = (credentials) => {
    let hint, value, renewer;
    try {
      hint = SSO_HINTS.find((name) => (value = credentials[name]) != null);
      renewer = credentials.getLoginKey;
    } catch (refused) {
      // not an object, or a getter threw: `credentialValues` below says so
    }
    if (hint) {
      const isCurrent = replaceSignIn(null);
      return extras().then((extra) => extra.signOn(wasm, hint, value, isCurrent));
    }
    if (typeof renewer === 'function') {
      let isCurrent;
      const renewing = extras().then((extra) => extra.renewingKeys(wasm, renewer, isCurrent));
      renewing.catch(() => {}); // a failed load reaches the calls that wait for it
      isCurrent = replaceSignIn(renewing);
      return immediate('logout');
    }
    // Malformed credentials throw here, and leave everything as it was.
    immediate('authenticate', ...credentialValues(credentials));
    replaceSignIn(null);
  };

  agent.logout = () => {
    replaceSignIn(null);
    return immediate('logout');
  };

  /**
   * The data of the next `name` event. `options.signal` gives up waiting: the
   * promise rejects with code `canceled` and the listener is removed.
   */
  agent.once = (name, options) => new Promise((resolve, reject) => {
    const signal = options?.signal;
    const stop = () => { off(); reject(canceled()); };
    const heard = (event, data) => {
      off();
      signal?.removeEventListener('abort', stop);
      resolve(data);
    };
    const off = agent.addEventListener(name, heard);
    if (signal?.aborted) stop();
    else signal?.addEventListener('abort', stop);
  });

  PROPERTIES.forEach(([property, initial], number) => {
    Object.defineProperty(agent, property, {
      enumerable: true,
      get() {
        if (wasm) return wasm.setting(number);
        return property in pending ? pending[property] : initial;
      },
      set(value) {
        if (wasm) return wasm.configure(number, value);
        if (failure) throw failure;
        pending[property] = value;
        load();
        queue.push(() => {
          if (failure) return;
          try { wasm.configure(number, value); } catch (error) { reportQueued(property, error); }
        });
      },
    });
  });

  /** A preflight report: see `diagnose` in js/extras.js. */
  agent.diagnose = () => {
    // A popup is tried now, inside the page's click if this call is in one: the report comes later.
    // (undefined: not in a click, not tried; null: blocked.)
    let popup;
    try {
      if (navigator.userActivation?.isActive) (popup = open())?.close();
    } catch (refused) {
      popup = null;
    }
    return extras().then((extra) => extra.diagnose(wasm, !!renewingKeys, popup));
  };

  /** Starts loading the module (optionally from `options.wasm`); resolves to the agent when ready. */
  agent.load = load;
  /** Resolves when the module has loaded; rejects with code `load_failed` if it cannot. */
  Object.defineProperty(agent, 'ready', { enumerable: true, get: () => load() });
  return agent;
}
