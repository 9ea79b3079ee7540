// node js/tools/short-names.mjs NAMES GLUE WASM > OUT
//
// A build step, not shipped. wasm-opt --minify-imports-and-exports-and-modules gave the module's
// imports, exports and import module one- or two-letter names (NAMES is the mapping it printed;
// WASM is the module it wrote). wasm-bindgen's names carry a 16-digit hash each, which neither gzip
// nor brotli can shorten, in the module and again in its JavaScript glue. This writes the glue
// (GLUE) with the new names, and fails if any old name is left or any new one found no place.
import { readFileSync } from 'node:fs';

const [namesFile, glueFile, wasmFile] = process.argv.slice(2);
if (!wasmFile) throw new Error('usage: short-names.mjs NAMES GLUE WASM > OUT');
const names = JSON.parse(readFileSync(namesFile, 'utf8'));
let glue = readFileSync(glueFile, 'utf8');

// The one import module, whose new name the mapping does not print: read it from the module.
const modules = new Set(WebAssembly.Module.imports(new WebAssembly.Module(readFileSync(wasmFile))).map((i) => i.module));
const oldModules = new Set(names.imports.map(([module]) => module));
if (modules.size !== 1 || oldModules.size !== 1) throw new Error('expected one import module before and after');
const [module] = modules;
const [oldModule] = oldModules;

/** Replaces every match of `pattern` (which must match at least once) with `replacement`. */
function rename(pattern, replacement, what) {
  const before = glue;
  glue = glue.replace(pattern, replacement);
  if (glue === before) throw new Error(`${what}: not found in the glue`);
}

const quoted = (text) => JSON.stringify(text);
const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

rename(new RegExp(`${escape(quoted(oldModule))}:`, 'g'), `${quoted(module)}:`, `module ${oldModule}`);
for (const [, name, short] of names.imports) {
  // The import object's keys: `        __wbg_x_<hash>: function(`.
  rename(new RegExp(`(^\\s+)${escape(name)}:`, 'gm'), `$1${quoted(short)}:`, `import ${name}`);
}
for (const [name, short] of names.exports) {
  // `wasm.name`, as wasm-bindgen writes every use of an export. Some exports (wasm-bindgen's abort
  // flags) are not used by the glue at all.
  const pattern = new RegExp(`\\bwasm\\.${escape(name)}\\b`, 'g');
  if (pattern.test(glue)) rename(pattern, `wasm[${quoted(short)}]`, `export ${name}`);
}

const left = [...names.imports.map(([, name]) => name), ...names.exports.map(([name]) => `wasm.${name}`)]
  .filter((name) => new RegExp(`\\b${escape(name)}\\b`).test(glue));
if (left.length > 0) throw new Error(`old names left in the glue: ${left.join(', ')}`);
process.stdout.write(glue);
