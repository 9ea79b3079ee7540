// Compiles the wasm module from a URL, a fetch Response (or a promise of one), bytes, or an already
// compiled module. Streaming compilation needs the `application/wasm` type; servers that send another
// type get the bytes compiled instead of an error.
export async function compileModule(source) {
  if (source instanceof WebAssembly.Module) return source;
  if (typeof source === 'string' || source instanceof URL) source = fetch(source);
  source = await source;
  if (source instanceof Response) {
    if (!source.ok) throw new Error('HTTP ' + source.status + ' for ' + source.url);
    const type = source.headers.get('Content-Type') || '';
    if (WebAssembly.compileStreaming && type.startsWith('application/wasm')) return WebAssembly.compileStreaming(source);
    source = await source.arrayBuffer();
  }
  return WebAssembly.compile(source);
}
