// A worker process of the fault suite: `node --import tsx worker.ts`.
// Environment: BATON_DATABASE_URL, LEASE_MS, CONCURRENCY, SCHEDULES (0 to run none).
// Prints "ready <worker id>" once running. Signals:
//   SIGTERM  graceful stop (a deploy)
//   SIGUSR1  SIGKILL this process while its next claim statement is outstanding
//   SIGUSR2  SIGKILL this process right after its next side effect commits, before the result is recorded
//   SIGHUP   the reply to its next engine statement of a randomly chosen kind (claim, completion,
//            history write, failure, heartbeat, start beside the worker) is lost after the statement
//            committed, as when the connection drops between COMMIT and the answer: the caller sees
//            a connection error
import { Store, Worker, createLogger } from '../../src/index.js';
import { interceptStatements, lostReply } from '../intercept.js';
import {
  QUEUES,
  blocker,
  chargeCard,
  doomed,
  everySecond,
  everyTwoSeconds,
  hooks,
  order,
  receipt,
  tick,
  useStore,
  kickoff,
  work,
} from './load.js';

let killMidClaim = false;
let loseReplyOf: string | undefined;
const STATEMENTS = [
  'baton_claim',
  'baton_complete',
  'baton_record_history',
  'baton_finish_attempt',
  'baton_heartbeat',
  'baton_start_here',
];
// Installed first: a fault signal that came before its handler would kill the process (or, for
// SIGUSR1, start Node's inspector).
process.on('SIGUSR1', () => (killMidClaim = true));
process.on('SIGUSR2', () => (hooks.killAfterEffect = true));
// SIGTERM too, before anything starts: one that came while the worker was starting would otherwise
// kill it by the default action, which the suite counts as a crash (found in a run on 2026-12-02).
let stop: (() => void) | undefined;
let stopRequested = false;
process.on('SIGTERM', () => {
  stopRequested = true;
  stop?.();
});
process.on('SIGHUP', () => {
  loseReplyOf = STATEMENTS[Math.floor(Math.random() * STATEMENTS.length)];
  process.stderr.write(`fault armed: the next reply to ${loseReplyOf} will be lost\n`);
});

const store = await Store.open({ logger: createLogger(process.env.BATON_LOG ?? 'warn') });
useStore(store);
interceptStatements(store.driver, {
  // Kill within a couple of milliseconds of sending a claim, so the process dies before, while or
  // after the server commits it, never after handling it.
  before(name) {
    if (killMidClaim && name.startsWith('baton_claim'))
      setTimeout(() => process.kill(process.pid, 'SIGKILL'), Math.random() * 2);
  },
  after(name) {
    if (loseReplyOf && name.startsWith(loseReplyOf)) {
      loseReplyOf = undefined;
      throw lostReply(name);
    }
  },
});

const worker = new Worker(store, {
  jobs: [work, doomed, chargeCard, tick, kickoff],
  workflows: [order, receipt, blocker],
  schedules: process.env.SCHEDULES === '0' ? [] : [everySecond, everyTwoSeconds],
  queues: QUEUES,
  concurrency: Number(process.env.CONCURRENCY ?? 10),
  lease: Number(process.env.LEASE_MS ?? 1500),
  pollInterval: 250,
  shutdownDeadline: 3000,
});
await worker.start();
stop = () => {
  stop = undefined;
  void worker.stop().then(async () => {
    await store.close();
    process.exit(0);
  });
};
process.stdout.write(`ready ${worker.id}\n`);
if (stopRequested) stop();
