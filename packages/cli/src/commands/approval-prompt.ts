// Approvals asked at the terminal: while a run goes on, each tool call it waits on is put to the
// person at the keyboard (once, for the session, always, or deny with a reason).
import { createInterface } from 'node:readline/promises';
import { userInfo } from 'node:os';
import type { Store } from '@baton/core';
import { ApprovalStore, type Approval, type Remember } from '@baton/ai';
import type { Io } from '../context.js';

export /** Asks at the terminal for each request of `executionId` until `done` settles. */
async function askAtTerminal(
  store: Store,
  executionId: string,
  done: Promise<unknown>,
  io: Io,
): Promise<void> {
  const approvals = new ApprovalStore(store.driver);
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const seen = new Set<string>();
  let finished = false;
  void done.finally(() => {
    finished = true;
    rl.close();
  });
  try {
    while (!finished) {
      const pending = (await approvals.list('pending', 1000, executionId)).filter(
        (a: Approval) => !seen.has(a.id),
      );
      for (const a of pending) {
        seen.add(a.id);
        const answer = (
          await rl.question(
            `\nallow ${a.tool} ${JSON.stringify(a.arguments)}? (${a.rule ?? 'no rule matches'})\n[y] once  [s] this session  [a] always  [n] deny: `,
          )
        )
          .trim()
          .toLowerCase();
        const remember: Remember = answer === 's' ? 'session' : answer === 'a' ? 'always' : 'once';
        const approved = ['y', 'yes', 's', 'a'].includes(answer);
        const reason = approved ? null : (await rl.question('reason (the agent sees it): ')).trim() || null;
        await approvals
          .decide(store, a.id, { approved, by: userInfo().username, reason, remember })
          .catch((err: unknown) => io.err(`could not answer: ${(err as Error).message}`));
      }
      await Promise.race([done, new Promise((r) => setTimeout(r, 200))]);
    }
  } catch (err) {
    // The prompt closes when the run ends.
    if (!finished) throw err;
  }
}
