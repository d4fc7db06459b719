// `baton profile`: where an execution's time went (queueing, claim, steps, activities, children,
// suspension, the engine between operations), as bars; or percentiles over many runs of a name.
import { Command } from 'commander';
import {
  BatonError,
  Client,
  profileExecution,
  profilePercentiles,
  toMs,
  type Execution,
  type ExecutionProfile,
  type ProfileFigures,
} from '@baton/core';
import { table } from '../format.js';
import { withStore, type GlobalOptions, type Io } from '../context.js';
import { parseIntOption } from './options.js';

const WIDTH = 40;
const LABELS: Record<keyof ProfileFigures, string> = {
  scheduled: 'scheduled (created → due)',
  claim: 'claim (due → claimed; a workflow: created → first operation)',
  run: 'running',
  steps: 'steps',
  activities: 'activities (sum; may overlap)',
  children: 'child workflows (sum)',
  suspended: 'suspended (sleeps, signals)',
  engine: 'engine (wake-ups, claims, replays)',
};

export function duration(msValue: number): string {
  if (msValue < 1000) return `${msValue.toFixed(0)} ms`;
  if (msValue < 120_000) return `${(msValue / 1000).toFixed(2)} s`;
  return `${(msValue / 60_000).toFixed(1)} min`;
}

function bar(value: number, scale: number, offset = 0): string {
  if (scale <= 0) return ' '.repeat(WIDTH);
  const start = Math.min(WIDTH - 1, Math.floor((offset / scale) * WIDTH));
  const len = value > 0 ? Math.max(1, Math.round((value / scale) * WIDTH)) : 0;
  return (' '.repeat(start) + '█'.repeat(Math.min(len, WIDTH - start))).padEnd(WIDTH);
}

/** One execution's profile as text: totals as bars, then each operation on a timeline. */
export function profileText(p: ExecutionProfile): string {
  const figures = (Object.keys(LABELS) as (keyof ProfileFigures)[]).filter((k) =>
    p.kind === 'workflow' ? k !== 'run' : ['scheduled', 'claim', 'run'].includes(k),
  );
  const labelWidth = Math.max(...figures.map((k) => LABELS[k].length));
  const lines = [
    `${p.kind} ${p.name}  ${p.execution}  ${p.status}  ${p.attempts} attempt${p.attempts === 1 ? '' : 's'}  total ${duration(p.totalMs)}`,
    '',
    ...figures.map(
      (k) => `${LABELS[k].padEnd(labelWidth)}  |${bar(p.figures[k], p.totalMs)}|  ${duration(p.figures[k])}`,
    ),
  ];
  if (p.operations.length) {
    lines.push('', 'operations (on the execution timeline):');
    const nameWidth = Math.min(40, Math.max(...p.operations.map((o) => `${o.kind} ${o.name}`.length)));
    for (const o of p.operations) {
      const label = `${o.kind} ${o.name}`.slice(0, nameWidth).padEnd(nameWidth);
      const d = o.durationMs === null ? 'waiting' : duration(o.durationMs);
      lines.push(
        `  #${String(o.seq).padEnd(3)} ${label}  |${bar(o.durationMs ?? p.totalMs - o.startMs, p.totalMs, o.startMs)}|  +${duration(o.startMs)}  ${d}`,
      );
    }
  }
  return lines.join('\n');
}

async function profileOf(client: Client, e: Execution): Promise<ExecutionProfile> {
  if (e.kind !== 'workflow') return profileExecution(e, []);
  const { history } = await client.describe(e.id);
  const children: Execution[] = [];
  for (let before: string | undefined; ;) {
    const page = await client.list({ parentId: e.id, limit: 1000, before });
    children.push(...page);
    if (page.length < 1000) break;
    before = page.at(-1)!.id;
  }
  return profileExecution(e, history, children);
}

/** Executions of `name` created since `sinceMs` ago, newest first, at most `limit`. */
async function recent(client: Client, name: string, sinceMs: number, limit: number): Promise<Execution[]> {
  const from = Date.now() - sinceMs;
  const out: Execution[] = [];
  let before: string | undefined;
  for (;;) {
    const page = await client.list({ name, limit: Math.min(1000, limit), before });
    for (const e of page) {
      if (e.createdAt.getTime() < from || out.length >= limit) return out;
      out.push(e);
    }
    if (page.length === 0) return out;
    before = page.at(-1)!.id;
  }
}

export function profileCommand(globals: () => GlobalOptions, io: Io): Command {
  return new Command('profile')
    .description(
      'where the time of an execution went (or percentiles over a name): queueing, claim, steps, activities, children, suspension, the engine',
    )
    .argument('[execution]', 'execution id')
    .option('--name <name>', 'aggregate the runs of this job or workflow instead')
    .option('--since <duration>', 'with --name: runs created this recently (e.g. 1h, 30m)', '1h')
    .option('--limit <n>', 'with --name: at most this many runs, newest first', '500')
    .option('--json', 'print JSON')
    .action(
      async (id: string | undefined, o: { name?: string; since: string; limit: string; json?: boolean }) => {
        if ((id === undefined) === (o.name === undefined)) {
          throw new BatonError(
            'E_INVALID_OPTION',
            'give an execution id, or --name <job or workflow> (not both)',
          );
        }
        const sinceMs = toMs(o.since, '--since');
        const limit = parseIntOption(o.limit, '--limit')!;
        await withStore(globals(), async (store) => {
          const client = new Client(store);
          if (id !== undefined) {
            const p = await profileOf(client, await client.get(id));
            io.out(o.json ? JSON.stringify(p, null, 2) : profileText(p));
            return;
          }
          const runs = (await recent(client, o.name!, sinceMs, limit)).filter(
            (e) => e.status === 'completed' || e.status === 'failed',
          );
          if (runs.length === 0) {
            throw new BatonError(
              'E_NOT_FOUND',
              `no finished run of '${o.name}' was created in the last ${o.since}`,
            );
          }
          const profiles: ExecutionProfile[] = [];
          for (const e of runs) profiles.push(await profileOf(client, e));
          const pct = profilePercentiles(profiles);
          if (o.json) {
            io.out(
              JSON.stringify(
                { name: o.name, since: o.since, runs: profiles.length, percentiles: pct },
                null,
                2,
              ),
            );
            return;
          }
          const kinds = new Set(profiles.map((p) => p.kind));
          const keys = (['total', ...Object.keys(LABELS)] as (keyof typeof pct)[]).filter(
            (k) =>
              k === 'total' ||
              (kinds.has('workflow') ? k !== 'run' : ['scheduled', 'claim', 'run'].includes(k)),
          );
          io.out(
            `${o.name}: ${profiles.length} finished run${profiles.length === 1 ? '' : 's'} created in the last ${o.since}\n`,
          );
          io.out(
            table(
              ['FIGURE', 'P50', 'P90', 'P99', 'MAX'],
              keys.map((k) => [
                k === 'total' ? 'total' : LABELS[k],
                ...(['p50', 'p90', 'p99', 'max'] as const).map((q) => duration(pct[k][q])),
              ]),
            ),
          );
        });
      },
    );
}
