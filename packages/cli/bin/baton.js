#!/usr/bin/env node
// The `baton` command as npm links it. This file is committed and dist/ is not: npm links a
// workspace's bin at install time only if its file exists then, and the build comes after.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/bin.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('error: baton is not built yet; run `npm run build` in the Baton checkout first\n');
  process.exit(1);
}
await import(entry.href);
