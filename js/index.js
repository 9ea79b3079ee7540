// The npm entry: the same API as the script tag, without touching `window` unless `install()` is called.
// The module loads on the first call, or when `Agent.load({ wasm })` names where the .wasm file is
// (a URL, a fetch Response, the bytes, or a compiled WebAssembly.Module).
import { GlanceAgent, initSync } from 'glance-agent-wasm';
import { createAgent } from './agent.js';
import { compileModule } from './load.js';

export const Agent = createAgent(async (/** @type {{ wasm?: any } | undefined} */ options) => {
  const source = options?.wasm || new URL('./glance_agent_bg.wasm', import.meta.url);
  initSync({ module: await compileModule(source) });
  GlanceAgent.start();
  return GlanceAgent;
});

/**
 * Installs `Agent` as `GLANCE.Agent` on `target` (default `globalThis`), keeping other members.
 * @param {any} [target]
 */
export function install(target = globalThis) {
  const glance = /** @type {Record<string, any>} */ (target.GLANCE = target.GLANCE || {});
  glance.Agent = Agent;
  return Agent;
}

export default Agent;
