// node js/tools/size.mjs DIR [--ceiling BYTES]
// Prints raw, gzip (-9) and brotli (max) bytes of every file in DIR (every byte a page may download,
// pieces loaded later included) and the total. With --ceiling, exits non-zero when the gzip total is
// above it.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const [dir, flag, value] = process.argv.slice(2);
if (!dir || (flag && flag !== '--ceiling')) throw new Error('usage: size.mjs DIR [--ceiling BYTES]');
const ceiling = flag ? Number(value) : null;

const measure = (name) => {
  const bytes = readFileSync(join(dir, name));
  return {
    name,
    raw: bytes.length,
    gzip: gzipSync(bytes, { level: 9 }).length,
    brotli: brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
  };
};
const rows = readdirSync(dir).sort().map(measure);
const total = rows.reduce((sum, row) => ({
  name: 'total', raw: sum.raw + row.raw, gzip: sum.gzip + row.gzip, brotli: sum.brotli + row.brotli,
}), { raw: 0, gzip: 0, brotli: 0 });

const line = (r) => `${r.name.padEnd(24)} ${String(r.raw).padStart(8)} ${String(r.gzip).padStart(8)} ${String(r.brotli).padStart(8)}`;
console.log(`${'file'.padEnd(24)} ${'raw'.padStart(8)} ${'gzip'.padStart(8)} ${'brotli'.padStart(8)}`);
for (const row of rows) console.log(line(row));
console.log(line(total));
if (ceiling !== null) {
  const verdict = total.gzip <= ceiling ? 'within' : 'OVER';
  console.log(`gzip total ${total.gzip} bytes: ${verdict} the ceiling of ${ceiling}`);
  if (total.gzip > ceiling) process.exit(1);
}
