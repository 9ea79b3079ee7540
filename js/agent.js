// The GLANCE.Agent object: complete at once, forwarding to the wasm module once it has loaded.
// Calls made before then are queued and run in order; promise-returning calls return their promise at
// once. Checks, state and events live in the module; the facade adds what is cheapest in JavaScript:
// `params.signal` (an abort listener that cancels the call's lookup by id), listener disposers, `once`.

const PROMISED = ['lookupSession', 'joinSession', 'openViewer', 'openAgentJoinURL'];
const IMMEDIATE = [
  'authenticate', 'logout', 'cancelLookup', 'close',
  'addEventListener', 'addEventListenerAll', 'removeEventListener', 'removeEventListenerAll',
];
// Properties the module holds (`setting(n)`, `configure(n, value)`; n is the index here), with their
// values until the module has loaded.
const PROPERTIES = [
  ['webserver', 'https://www.glance.net'],
  ['postParametersToViewer', true],
  ['requestTimeout', 10000],
];

function codedError(code, message, cause) {
  const error = new Error(message);
  error.code = code;
  if (cause !== undefined) error.cause = cause;
  return error;
}

function loadError(cause) {
  return codedError('load_failed', 'GLANCE.Agent could not load its WebAssembly module: ' + ((cause && cause.message) || cause), cause);
}

const canceled = () => codedError('canceled', 'the call was canceled by its signal');

/**
 * Runs a promise-returning call of the loaded module. `params.signal` never reaches the module: an
 * aborted signal rejects at once, and a later abort cancels the lookup the call started (by its id).
 * `lookupSession(key, {wait, signal})` becomes `lookupSession(key, wait)`.
 */
function run(wasm, name, args) {
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
  if (!signal) return wasm[name](...args);
  if (signal.aborted) return Promise.reject(canceled());
  const newest = wasm.lookupId();
  const promise = wasm[name](...args);
  const started = wasm.lookupId();
  if (started !== newest) {
    const abort = () => wasm.cancelLookupId(started);
    const done = () => signal.removeEventListener('abort', abort);
    signal.addEventListener('abort', abort);
    promise.then(done, done);
  }
  return promise;
}

function reportQueued(name, error) {
  console.error('GLANCE.Agent.' + name + ', called before the module loaded, failed:', error);
}

/**
 * @param {(options?: object) => Promise<object>} loadModule resolves to the wasm module's exports
 */
export function createAgent(loadModule) {
  let wasm = null;
  let failure = null;
  let loading = null;
  let queue = [];
  const pending = {};
  const agent = {};

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

  for (const name of PROMISED) {
    agent[name] = function (...args) {
      if (wasm) return run(wasm, name, args);
      if (failure) return Promise.reject(failure);
      load();
      return new Promise((resolve, reject) => {
        queue.push(() => (failure ? reject(failure) : resolve(run(wasm, name, args))));
      });
    };
  }

  for (const name of IMMEDIATE) {
    agent[name] = function (...args) {
      if (wasm) return wasm[name](...args);
      if (failure) throw failure;
      load();
      queue.push(() => {
        if (failure) return;
        try { wasm[name](...args); } catch (error) { reportQueued(name, error); }
      });
    };
  }

  // The adders return a disposer: calling it removes what they added (a second call does nothing).
  for (const [adder, remover] of [['addEventListener', 'removeEventListener'], ['addEventListenerAll', 'removeEventListenerAll']]) {
    const add = agent[adder];
    agent[adder] = function (...args) {
      add(...args);
      return () => agent[remover](...args);
    };
  }

  /**
   * The data of the next `name` event. `options.signal` gives up waiting: the
   * promise rejects with code `canceled` and the listener is removed.
   */
  agent.once = (name, options) => new Promise((resolve, reject) => {
    const signal = options && options.signal;
    const stop = () => { off(); reject(canceled()); };
    const heard = (event, data) => {
      off();
      if (signal) signal.removeEventListener('abort', stop);
      resolve(data);
    };
    const off = agent.addEventListener(name, heard);
    if (signal) {
      if (signal.aborted) stop();
      else signal.addEventListener('abort', stop);
    }
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

  /** Starts loading the module (optionally from `options.wasm`); resolves to the agent when ready. */
  agent.load = load;
  /** Resolves when the module has loaded; rejects with code `load_failed` if it cannot. */
  Object.defineProperty(agent, 'ready', { enumerable: true, get: () => load() });
  return agent;
}
