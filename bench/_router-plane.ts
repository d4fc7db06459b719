// The control plane of `npm run bench -- router --plane-process`, in a process of its own as
// `baton architect` runs in production: `node --import tsx bench/_router-plane.ts <database url>`.
import { Store, createLogger } from '@baton/core';
import { createArchitect } from '../packages/flows/src/architect/architect.js';
import { startControlPlane } from '../packages/flows/src/architect/control-plane.js';
import { benchRules } from './_router-rules.js';

const store = await Store.open({ databaseUrl: process.argv[2]!, logger: createLogger('warn') });
const rules = await benchRules();
const architect = await createArchitect({ store, rules: () => rules, logger: createLogger('warn') });
const plane = await startControlPlane(store, architect, { concurrency: 200, slaIntervalMs: 60_000 });
process.stdout.write('ready\n');
process.once('SIGTERM', () => {
  void plane
    .stop()
    .then(() => store.close())
    .then(() => process.exit(0));
});
