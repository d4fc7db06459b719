#!/usr/bin/env node
// The `baton-ta` command as npm links it: committed, unlike dist/, so that npm can link it at
// install time, before the build.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/cli/bin.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('error: baton-ta is not built yet; run `npm run build` in the Baton checkout first\n');
  process.exit(1);
}
await import(entry.href);
