// node js/tools/size.mjs DIR [--budget BYTES] [--later FILE]...
// Prints raw, gzip (-9) and brotli (max) bytes of every file a page downloads from DIR, and the total.
// Files named by --later are loaded only on the first use of some calls: they are listed after the
// total, not in it. With --budget, exits non-zero when the gzip total is above it.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const [dir, ...flags] = process.argv.slice(2);
if (!dir) throw new Error('usage: size.mjs DIR [--budget BYTES] [--later FILE]...');
const option = (flag) => flags.flatMap((given, at) => (given === flag ? [flags[at + 1]] : []));
const budget = option('--budget').length ? Number(option('--budget')[0]) : null;
const later = option('--later');

const measure = (name) => {
  const bytes = readFileSync(join(dir, name));
  return {
    name,
    raw: bytes.length,
    gzip: gzipSync(bytes, { level: 9 }).length,
    brotli: brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
  };
};
const names = readdirSync(dir).sort();
const rows = names.filter((name) => !later.includes(name)).map(measure);
const total = rows.reduce((sum, row) => ({
  name: 'total', raw: sum.raw + row.raw, gzip: sum.gzip + row.gzip, brotli: sum.brotli + row.brotli,
}), { raw: 0, gzip: 0, brotli: 0 });

const line = (r) => `${r.name.padEnd(24)} ${String(r.raw).padStart(8)} ${String(r.gzip).padStart(8)} ${String(r.brotli).padStart(8)}`;
console.log(`${'file'.padEnd(24)} ${'raw'.padStart(8)} ${'gzip'.padStart(8)} ${'brotli'.padStart(8)}`);
for (const row of rows) console.log(line(row));
console.log(line(total));
if (later.length) console.log('loaded on the first use of some calls, not in the total:');
for (const name of later) console.log(line(measure(name)));
if (budget !== null) {
  const verdict = total.gzip <= budget ? 'within' : 'OVER';
  console.log(`gzip total ${total.gzip} bytes: ${verdict} the budget of ${budget}`);
  if (total.gzip > budget) process.exit(1);
}
