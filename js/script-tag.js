// The classic-script build: `<script src=".../glance-agent.js">` leaves `window.GLANCE.Agent` complete
// when the tag finishes, and loads `glance_agent_bg.wasm` from beside this script.
import * as wasm from './module.js';
import { createAgent } from './agent.js';
import { compileModule } from './load.js';

(function install() {
  const glance = (window.GLANCE = window.GLANCE || {});
  // Loaded twice: keep the first instance, which holds the page's listeners and credentials.
  if (glance.Agent?.ready) return;

  const script = document.currentScript;
  const base = script?.src || document.baseURI;
  const wasmUrl = new URL('glance_agent_bg.wasm', base);

  const agent = createAgent(
    () => compileModule(wasmUrl).then((module) => (wasm.initSync({ module }), wasm)),
    // Beside this script, as an ES module; loaded on first use of a call that needs it.
    () => import(new URL('glance-agent-extras.js', base)),
  );
  glance.Agent = agent;
  agent.load();
})();
