// Compiles the wasm module from a URL, a fetch Response (or a promise of one), bytes, or an already
// compiled module. Streaming compilation needs the `application/wasm` type; servers that send another
// type get the bytes compiled instead of an error.
/** @param {string | URL | Response | Promise<Response> | BufferSource | WebAssembly.Module} source */
export async function compileModule(source) {
  if (source instanceof WebAssembly.Module) return source;
  if (typeof source === 'string' || source instanceof URL) source = fetch(source);
  const loaded = await source;
  if (loaded instanceof WebAssembly.Module) return loaded;
  if (!(loaded instanceof Response)) return WebAssembly.compile(loaded);
  if (!loaded.ok) throw new Error('HTTP ' + loaded.status + ' for ' + loaded.url);
  const type = loaded.headers.get('Content-Type') || '';
  if (WebAssembly.compileStreaming && type.startsWith('application/wasm')) return WebAssembly.compileStreaming(loaded);
  return WebAssembly.compile(await loaded.arrayBuffer());
}
