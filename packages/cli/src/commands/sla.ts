// `baton sla status`: open tasks against their SLA, in the configured colours in a terminal, with
// compliance and p95 per type and the queue depth.
import { Command } from 'commander';
import type { SlaReport } from '@baton/flows';
import type { GlobalOptions, Io } from '../context.js';
import { table } from '../format.js';
import { withArchitect } from './architect-context.js';

const COLOURS: Record<string, number> = {
  red: 31,
  green: 32,
  yellow: 33,
  blue: 34,
  magenta: 35,
  cyan: 36,
  orange: 33,
};

export function slaCommand(globals: () => GlobalOptions, io: Io): Command {
  const sla = new Command('sla').description('service levels of open tasks (sla_rules.yaml)');
  sla
    .command('status')
    .description('open tasks with percent_used and severity; compliance and p95 per type over 1h, 24h, 7d')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      await withArchitect(globals(), io, async ({ architect }) => {
        const report = await architect.slaReport();
        io.out(
          o.json
            ? JSON.stringify(report, null, 2)
            : reportText(report, process.stdout.isTTY === true && !process.env.NO_COLOR),
        );
      });
    });
  return sla;
}

function paint(text: string, colour: string | undefined, on: boolean): string {
  const code = colour ? COLOURS[colour] : undefined;
  return on && code ? `\u001b[${code}m${text}\u001b[0m` : text;
}

function pct(x: number | null): string {
  return x === null ? '-' : `${(Math.floor(x * 10) / 10).toFixed(1)}%`;
}

export function reportText(r: SlaReport, colour: boolean): string {
  const out = [
    r.tasks.length === 0
      ? 'no open task has an SLA target'
      : table(
          ['TASK', 'TYPE', 'STATUS', 'SESSION', 'ELAPSED', 'TARGET', 'USED', 'SEVERITY'],
          r.tasks.map((t) => [
            t.task_id,
            t.task_type,
            t.status + (t.paused ? ' (paused)' : ''),
            t.session ?? '',
            `${t.elapsed_minutes.toFixed(1)} min`,
            `${t.target_minutes} min`,
            pct(t.percent_used),
            paint(t.severity, t.color, colour),
          ]),
        ),
    '',
    `queue depth ${r.queue_depth}${r.queue_depth_ema === null ? '' : ` (EMA ${r.queue_depth_ema.toFixed(1)})`}; ${r.open_alerts.length} open alert${r.open_alerts.length === 1 ? '' : 's'}`,
  ];
  const types = Object.entries(r.compliance);
  if (types.length) {
    out.push('', 'compliance (met / finished, p95):');
    out.push(
      table(
        ['TYPE', '1h', '24h', '7d'],
        types.map(([type, w]) => [
          type,
          ...(['1h', '24h', '7d'] as const).map((k) =>
            w[k].finished
              ? `${pct(w[k].compliance === null ? null : w[k].compliance! * 100)} of ${w[k].finished}, p95 ${((w[k].p95_ms ?? 0) / 60_000).toFixed(1)} min`
              : '-',
          ),
        ]),
      ),
    );
  }
  return out.join('\n');
}
