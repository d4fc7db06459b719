// A worker process of the backtest bench's sweep: serves the backtest queue of one database, one run
// at a time, prints `ready` once started and stops on SIGTERM.
import { Store, Worker, createLogger } from '@baton/core';
import { backtestRun, backtestSweep, BACKTEST_QUEUE } from '@baton/backtest';

const url = process.argv[2];
if (!url) throw new Error('usage: _backtest-worker.ts <database url>');
const store = await Store.open({ databaseUrl: url, logger: createLogger('warn') });
const worker = new Worker(store, {
  jobs: [backtestRun],
  workflows: [backtestSweep],
  queues: [BACKTEST_QUEUE],
  concurrency: 1,
});
await worker.start();
process.stdout.write('ready\n');
process.once('SIGTERM', () => {
  void worker
    .stop({ deadline: '5s' })
    .then(() => store.close())
    .then(() => process.exit(0));
});
