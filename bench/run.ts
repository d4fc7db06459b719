// Entry point of `npm run bench -- <suite>`: runs bench/<suite>.ts. Each suite prints one JSON object as its last line.
import { execFileSync } from 'node:child_process';
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
// Suites import the built packages, as users run them (the TypeScript loader's output is slower and
// would be measured instead): build first, so that a stale build is never what gets timed. The
// build's output goes to stderr; stdout keeps only the suite's lines.
execFileSync('npm', ['run', '--silent', 'build'], { cwd: join(here, '..'), stdio: ['ignore', 2, 2] });
await import(pathToFileURL(file).href);
