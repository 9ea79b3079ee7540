// The GLANCE.Agent object: complete at once, forwarding to the wasm module once it has loaded.
// Calls made before then are queued and run in order; promise-returning calls return their promise at
// once. Everything else (checks, state, events) lives in the module.

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

function loadError(cause) {
  const error = new Error('GLANCE.Agent could not load its WebAssembly module: ' + ((cause && cause.message) || cause));
  error.code = 'load_failed';
  error.cause = cause;
  return error;
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
      if (wasm) return wasm[name](...args);
      if (failure) return Promise.reject(failure);
      load();
      return new Promise((resolve, reject) => {
        queue.push(() => (failure ? reject(failure) : resolve(wasm[name](...args))));
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
