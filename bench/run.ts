// Entry point of `npm run bench -- <suite>`: runs bench/<suite>.ts. Each suite prints one JSON object as its last line.
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
const suites = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts' && !f.startsWith('_'))
  .map((f) => f.slice(0, -3));
const suite = process.argv[2];
if (!suite || !suites.includes(suite)) {
  console.error(`usage: npm run bench -- <suite>   (suites: ${suites.join(', ') || 'none yet'})`);
  process.exit(2);
}
const file = join(here, `${suite}.ts`);
if (!existsSync(file)) throw new Error(`bench suite file ${file} is missing`);
process.argv.splice(2, 1);
await import(pathToFileURL(file).href);
