// Where a rerun of a YAML workflow starts: the prefix of the old run's history that the new run
// reuses (replays) before it goes on live from a top-level step. A history entry belongs to the
// step its name tells; an entry whose name tells none (a subflow's own) belongs to the step before.
import { BatonError, nearest, type ExecutionStatus, type HistoryEntry } from '@baton/core';
import { walkSteps } from '../config/kinds/workflows.js';
import type { WorkflowSpec } from './compile.js';

/**
 * How many entries of `history` (a run of `name`, now `status`) come before top-level step `from`.
 * Throws `E_INPUT_INVALID` for a step the workflow does not have, and `E_INVALID_STATE` for a run
 * that failed before it got there.
 */
export function rerunCut(
  name: string,
  spec: WorkflowSpec,
  history: readonly Pick<HistoryEntry, 'name'>[],
  status: ExecutionStatus,
  from: string,
): number {
  const ids = spec.steps.map((s) => s.id!);
  const fromIndex = ids.indexOf(from);
  if (fromIndex < 0) {
    const hint = nearest(from, ids);
    throw new BatonError(
      'E_INPUT_INVALID',
      `workflow '${name}' has no top-level step '${from}'${hint ? ` (did you mean '${hint}'?)` : ''}; its steps: ${ids.join(', ')}`,
    );
  }
  const owner = historyOwner(spec);
  let current = -1;
  const found = history.findIndex((h) => {
    current = owner(h.name) ?? current;
    return current >= fromIndex;
  });
  if (found >= 0) return found;
  // With nothing recorded from `from` on, only a run that completed is known to have got there.
  if (status !== 'completed')
    throw new BatonError(
      'E_INVALID_STATE',
      `the run (${status}) never reached step '${from}': nothing to rerun from`,
    );
  return history.length;
}

/**
 * The top-level step (its index; `finally`: Infinity) a history entry of a run of `spec` belongs to,
 * by the entry's name: a step's own (`id`, `id.…`, `id[…]`), its approval's event and signal
 * (`approval:<step>`, `approve:<step>`), or the signal a `wait` step names. Undefined for any other.
 */
function historyOwner(spec: WorkflowSpec): (name: string) => number | undefined {
  const owners = new Map<string, number>();
  spec.steps.forEach((s, i) => owners.set(s.id!, i));
  for (const s of spec.finally ?? []) owners.set(s.id!, Infinity);
  const signals = new Map<string, number>();
  walkSteps(spec.steps, [], (s, p) => {
    if (s.type === 'wait' && typeof s.signal === 'string') signals.set(s.signal, p[0] as number);
  });
  return (name) => {
    const bare = name.replace(/^approv(?:al|e):/, '');
    const id = /^[^.[]*/.exec(bare)![0];
    return owners.get(id) ?? signals.get(name);
  };
}
