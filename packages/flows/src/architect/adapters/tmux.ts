// The `tmux` adapter: a session is an interactive agent CLI in tmux (see tmux/adapter.ts). Each task's
// prompt is delivered to it; the task completes when the agent worked and came back to its input
// prompt. While it waits on an approval prompt the session reports `waiting_input` (never idle, and
// given no work) until someone answers it in tmux.
import { toStorableText } from '@baton/core';
import { TmuxAgent, type TmuxAgentOptions } from '../tmux/adapter.js';
import type { ExecutorOutcome, TaskExecutor } from './runner.js';

export async function tmuxExecutor(options: TmuxAgentOptions): Promise<TaskExecutor> {
  const agent = new TmuxAgent(options);
  await agent.start();
  return {
    async run(task, report): Promise<ExecutorOutcome> {
      await agent.waitUntilIdle();
      await agent.deliver(task.prompt);
      let waiting = false;
      for (;;) {
        const r = await agent.waitForOutcome();
        if (r.outcome === 'completed') {
          if (waiting) report({ state: 'active', note: null });
          return { ok: true, output: r.output };
        }
        if (r.outcome === 'waiting_input') {
          const lines = r.screen.trimEnd().split('\n');
          if (!waiting) report({ state: 'waiting_input', note: toStorableText(lines.slice(-8).join('\n')) });
          waiting = true;
          // someone answers in tmux; look again shortly
          await new Promise((r) => setTimeout(r, 1000));
        }
      }
    },
    close: () => agent.stop(),
  };
}
