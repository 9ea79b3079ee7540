// The npm entry: the same API as the script tag, without touching `window` unless `install()` is called.
// The module loads on the first call, or when `Agent.load({ wasm })` names where the .wasm file is
// (a URL, a fetch Response, the bytes, or a compiled WebAssembly.Module).
import * as wasm from './module.js';
import { createAgent } from './agent.js';
import { compileModule } from './load.js';

export const Agent = createAgent(async (options) => {
  const source = (options && options.wasm) || new URL('./glance_agent_bg.wasm', import.meta.url);
  wasm.initSync({ module: await compileModule(source) });
  return wasm;
}, () => import('./extras.js'));

/** Installs `Agent` as `GLANCE.Agent` on `target` (default `globalThis`), keeping other members. */
export function install(target = globalThis) {
  const glance = (target.GLANCE = target.GLANCE || {});
  glance.Agent = Agent;
  return Agent;
}

export default Agent;
