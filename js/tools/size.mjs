// node js/tools/size.mjs DIR [--budget BYTES]
// Prints raw, gzip (-9) and brotli (max) bytes of every file a page downloads from DIR, and the total.
// With --budget, exits non-zero when the gzip total is above it.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const [dir, flag, budgetText] = process.argv.slice(2);
if (!dir) throw new Error('usage: size.mjs DIR [--budget BYTES]');
const budget = flag === '--budget' ? Number(budgetText) : null;

const rows = readdirSync(dir).sort().map((name) => {
  const bytes = readFileSync(join(dir, name));
  return {
    name,
    raw: bytes.length,
    gzip: gzipSync(bytes, { level: 9 }).length,
    brotli: brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
  };
});
const total = rows.reduce((sum, row) => ({
  name: 'total', raw: sum.raw + row.raw, gzip: sum.gzip + row.gzip, brotli: sum.brotli + row.brotli,
}), { raw: 0, gzip: 0, brotli: 0 });

const line = (r) => `${r.name.padEnd(24)} ${String(r.raw).padStart(8)} ${String(r.gzip).padStart(8)} ${String(r.brotli).padStart(8)}`;
console.log(`${'file'.padEnd(24)} ${'raw'.padStart(8)} ${'gzip'.padStart(8)} ${'brotli'.padStart(8)}`);
for (const row of rows) console.log(line(row));
console.log(line(total));
if (budget !== null) {
  const verdict = total.gzip <= budget ? 'within' : 'OVER';
  console.log(`gzip total ${total.gzip} bytes: ${verdict} the budget of ${budget}`);
  if (total.gzip > budget) process.exit(1);
}
