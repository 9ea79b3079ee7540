// Figures the reliability suite writes to target/reliability/*.json; docs/RELIABILITY.md quotes them.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { root } from '../e2e/harness.mjs';

export function report(name, figures) {
  const dir = join(root, 'target/reliability');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}.json`), JSON.stringify(figures, null, 2) + '\n');
  console.log(`# ${name}: ${JSON.stringify(figures)}`);
}
