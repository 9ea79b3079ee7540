// Size: raw, gzip (level 9, node:zlib) and brotli (quality 11) bytes of each file that ships.
// Compression is deterministic, so this is measured once, not per run.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { root } from './lib.mjs';

/** The production agent script, gzip bytes (README.md, "Size"). */
export const PRODUCTION_GZIP = 10_906;

function sizes(dir) {
  const files = readdirSync(join(root, dir)).sort().map((name) => {
    const bytes = readFileSync(join(root, dir, name));
    return {
      name,
      raw: bytes.length,
      gzip: gzipSync(bytes, { level: 9 }).length,
      brotli: brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
    };
  });
  const add = (rows) => rows.reduce((sum, row) => ({
    raw: sum.raw + row.raw, gzip: sum.gzip + row.gzip, brotli: sum.brotli + row.brotli,
  }), { raw: 0, gzip: 0, brotli: 0 });
  return { dir, files, total: add(files), code: add(files.filter((file) => /\.(js|wasm)$/.test(file.name))) };
}

export function measureSize() {
  const script = sizes('dist/script');
  const npm = sizes('dist/npm');
  return {
    script,
    npm,
    production: { gzip: PRODUCTION_GZIP, ratio: script.total.gzip / PRODUCTION_GZIP },
  };
}
