// node js/tools/minify-names.mjs MAP.json GLUE.js MODULE.wasm > OUT.js (also drops a glue branch we never take)
//
// wasm-bindgen names every import after its JS API plus a 16-hex-digit hash
// (`__wbg_getElementsByTagNameNS_a3a0c2bdeaa29df8`), and those names sit in both the .wasm and the
// glue, where they compress badly. `wasm-opt --minify-imports-and-exports-and-modules` renames them in
// the .wasm and prints the mapping (MAP.json); this script applies the same mapping to the glue, then
// checks that every import the module asks for is provided and every export the glue uses exists.
import { readFileSync } from 'node:fs';

const [mapPath, gluePath, wasmPath] = process.argv.slice(2);
if (!wasmPath) throw new Error('usage: minify-names.mjs MAP.json GLUE.js MODULE.wasm > OUT.js');
const map = JSON.parse(readFileSync(mapPath, 'utf8'));
let glue = readFileSync(gluePath, 'utf8');

const escape = (text) => text.replace(/[$]/g, '$$$$');
const pattern = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const modules = new Map();
for (const [module, oldName, newName] of map.imports) {
  // Keys of the import object: `    __wbg_fetch_e30e892abecdbab2: function(arg0, arg1) {`
  const key = new RegExp(`(^|[\\s{,])${pattern(oldName)}(\\s*:)`, 'gm');
  if (!key.test(glue)) throw new Error(`import ${oldName} not found in the glue`);
  glue = glue.replace(key, `$1${escape(newName)}$2`);
  modules.set(module, null);
}
for (const [oldName, newName] of map.exports) {
  glue = glue.replace(new RegExp(`\\bwasm\\.${pattern(oldName)}\\b`, 'g'), `wasm.${escape(newName)}`);
}

// The import module names (one, "./glance_agent_bg.js") become what the module now asks for.
const module = new WebAssembly.Module(readFileSync(wasmPath));
const wanted = WebAssembly.Module.imports(module);
const renamedModules = [...new Set(wanted.map((i) => i.module))];
const originalModules = [...modules.keys()];
if (originalModules.length !== 1 || renamedModules.length !== 1) {
  throw new Error(`expected one import module, found ${originalModules} -> ${renamedModules}`);
}
const moduleKey = new RegExp(`"${pattern(originalModules[0])}"(\\s*:)`);
if (!moduleKey.test(glue)) throw new Error(`import module ${originalModules[0]} not found in the glue`);
glue = glue.replace(moduleKey, `"${escape(renamedModules[0])}"$1`);

// Two glue branches we never take go. `initSync(bareModule)` is deprecated by wasm-bindgen; both loaders
// pass `{ module }`, so the branch and its warning text go (-60 B gzip).
const bareModule = /if \(module !== undefined\) \{\s*if \(Object\.getPrototypeOf\(module\) === Object\.prototype\) \{\s*\(\{module\} = module\)\s*\} else \{\s*console\.warn\('using deprecated parameters for `initSync\(\)`[^']*'\)\s*\}\s*\}/;
if (!bareModule.test(glue)) throw new Error('initSync lacks the deprecated-argument branch this script drops: update the pattern');
glue = glue.replace(bareModule, '({module} = module);');

// A fallback for browsers without `TextEncoder.encodeInto` (before 2020; the facade needs newer ones).
const encodeIntoFallback = /if \(!\('encodeInto' in cachedTextEncoder\)\) \{\s*cachedTextEncoder\.encodeInto = function \(arg, view\) \{[^}]*\{[^}]*\};\s*\};\s*\}/;
if (!encodeIntoFallback.test(glue)) throw new Error('the glue lacks the encodeInto fallback this script drops: update the pattern');
glue = glue.replace(encodeIntoFallback, '');

// Every import is provided, and every `wasm.x` the glue uses is exported.
for (const { name } of wanted) {
  if (!new RegExp(`(^|[\\s{,])${pattern(name)}\\s*:`, 'm').test(glue)) throw new Error(`import ${name} missing from the glue`);
}
const exported = new Set(WebAssembly.Module.exports(module).map((e) => e.name));
for (const [, name] of glue.matchAll(/\bwasm\.([\w$]+)/g)) {
  if (!exported.has(name)) throw new Error(`the glue uses wasm.${name}, which the module does not export`);
}
process.stdout.write(glue);
