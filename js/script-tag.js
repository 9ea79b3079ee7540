// The classic-script build: `<script src=".../glance-agent.js">` leaves `window.GLANCE.Agent` complete
// when the tag finishes, and loads `glance_agent_bg.wasm` from beside this script.
import { GlanceAgent, initSync } from 'glance-agent-wasm';
import { createAgent } from './agent.js';
import { compileModule } from './load.js';

(function install() {
  const glance = /** @type {Record<string, any>} */ (window.GLANCE = window.GLANCE || {});
  // Loaded twice: keep the first instance, which holds the page's listeners and credentials.
  if (glance.Agent?.ready) return;

  const script = /** @type {HTMLScriptElement | null} */ (document.currentScript);
  const wasmUrl = new URL('glance_agent_bg.wasm', script?.src || document.baseURI);
  const agent = createAgent(() => compileModule(wasmUrl).then((module) => {
    initSync({ module });
    GlanceAgent.start();
    return GlanceAgent;
  }));
  glance.Agent = agent;
  agent.load();
})();
