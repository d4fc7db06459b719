#!/usr/bin/env node
/** Stand-alone entry of the `ta` command; the logic lives in main.ts. */
import { runTaCli } from './main.js';

process.exitCode = await runTaCli(process.argv.slice(2), process);
