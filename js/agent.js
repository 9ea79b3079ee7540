// GLANCE.Agent before and after the WebAssembly module has loaded: complete at once, forwarding each
// call and property to the module's GlanceAgent once it is there. Calls made before then are queued
// and run in order. What each call returns meanwhile, and what each property reads, comes from the
// module's own table (src/surface.rs, rendered at build time); this file holds no rule of its own.

import { loadFailed, methods, properties } from 'glance-agent-surface';

/**
 * @param {(options?: object) => Promise<object>} loadCore resolves to the module's GlanceAgent class
 * @returns {Record<string, any>} the agent
 */
export function createAgent(loadCore) {
  /** @type {any} */
  let core = null;
  /** @type {Error | null} */
  let failure = null;
  /** @type {Promise<object> | null} */
  let loading = null;
  /** @type {Array<() => void>} */
  let queue = [];
  const pending = new Map();
  /** @type {Record<string, any>} */
  const agent = {};

  /** @param {any} cause */
  const loadError = (cause) =>
    Object.assign(new Error(loadFailed.message + ': ' + (cause?.message ?? cause), { cause }), { code: loadFailed.code });

  // Starts loading once; later calls return the same promise.
  /** @param {object} [options] */
  function load(options) {
    if (!loading) {
      loading = Promise.resolve()
        .then(() => loadCore(options))
        .then(
          (loaded) => { core = loaded; flush(); return agent; },
          (cause) => { failure = loadError(cause); flush(); throw failure; },
        );
      loading.catch(() => {}); // a failed load reaches callers through their own calls
    }
    return loading;
  }

  function flush() {
    const calls = queue;
    queue = [];
    for (const call of calls) call();
  }

  /**
   * Runs `call` against the module once it has loaded; its result settles the returned promise (a
   * failed load rejects it).
   * @param {() => any} call
   */
  function later(call) {
    load();
    return new Promise((resolve, reject) => {
      queue.push(() => {
        if (failure) return reject(failure);
        try { resolve(call()); } catch (error) { reject(error); }
      });
    });
  }

  /**
   * Nobody waits on a queued call that returns no promise: if it throws, the page hears of it as an
   * unhandled rejection. (A failed load reaches the page through `ready` and the promise calls.)
   * @param {Promise<any>} queued
   */
  const unheard = (queued) => queued.catch((error) => { if (error !== failure) Promise.reject(error); });

  for (const [name, returns] of Object.entries(methods)) {
    agent[name] = (/** @type {any[]} */ ...args) => {
      if (core) return core[name](...args);
      if (failure) {
        if (returns === 'promise') return Promise.reject(failure);
        throw failure;
      }
      const result = later(() => core[name](...args));
      if (returns === 'promise') return result;
      unheard(result);
      if (returns === 'function') {
        // The function the call returns (a disposer), callable before it exists.
        return (/** @type {any[]} */ ...inner) => unheard(result.then((returned) => returned(...inner)));
      }
    };
  }

  for (const [name, { initial, writable }] of Object.entries(properties)) {
    Object.defineProperty(agent, name, {
      enumerable: true,
      get: () => (core ? core[name] : pending.has(name) ? pending.get(name) : initial),
      set: writable
        ? (value) => {
          if (core) {
            core[name] = value;
            return;
          }
          if (failure) throw failure;
          pending.set(name, value);
          unheard(later(() => { core[name] = value; }));
        }
        : undefined,
    });
  }

  /** Starts loading the module (optionally from `options.wasm`); resolves to the agent when ready. */
  agent.load = load;
  /** Resolves when the module has loaded; rejects with code `load_failed` if it cannot. */
  Object.defineProperty(agent, 'ready', { enumerable: true, get: () => load() });
  return agent;
}
