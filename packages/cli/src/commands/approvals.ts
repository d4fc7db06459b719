// `baton approvals list|approve|deny` (tool calls agents wait on) and `baton audit` (every
// permission decision on a tool call).
import { userInfo } from 'node:os';
import { Command } from 'commander';
import { BatonError, toMs } from '@baton/core';
import { ApprovalStore, AuditLog, aiTablesExist, type Approval, type Remember } from '@baton/ai';
import { table } from '../format.js';
import { withStore, type GlobalOptions, type Io } from '../context.js';

const when = (ms: number | null) =>
  ms === null ? '' : new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
const args = (v: unknown) => {
  const text = JSON.stringify(v);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
};

function approvalsTable(list: Approval[]): string {
  return table(
    ['id', 'status', 'tool', 'arguments', 'rule', 'requested', 'expires', 'execution'],
    list.map((a) => [
      a.id,
      a.status,
      a.tool,
      args(a.arguments),
      a.rule ?? '(no rule: ask)',
      when(a.requestedAt),
      when(a.expiresAt),
      a.executionId,
    ]),
  );
}

const REMEMBER = ['once', 'session', 'always'];

export function approvalsCommand(globals: () => GlobalOptions, io: Io): Command {
  const approvals = new Command('approvals').description("tool calls agents wait on a person's answer for");
  approvals
    .command('list')
    .description('pending requests, newest first (--all: decided and expired ones too)')
    .option('--all', 'every request')
    .option('--json', 'print JSON')
    .action(async (o: { all?: boolean; json?: boolean }) => {
      await withStore(globals(), async (store) => {
        const list = (await aiTablesExist(store.driver))
          ? await new ApprovalStore(store.driver).list(o.all ? 'all' : 'pending')
          : [];
        if (o.json) io.out(JSON.stringify(list, null, 2));
        else
          io.out(
            list.length
              ? approvalsTable(list)
              : o.all
                ? 'no approval requests'
                : 'no pending approval requests',
          );
      });
    });
  const decide =
    (approved: boolean) => async (id: string, o: { remember?: string; reason?: string; as?: string }) => {
      if (o.remember !== undefined && !REMEMBER.includes(o.remember))
        throw new BatonError('E_INVALID_OPTION', `--remember ${o.remember}: use once, session or always`);
      await withStore(globals(), async (store) => {
        if (!(await aiTablesExist(store.driver)))
          throw new BatonError('E_NOT_FOUND', `no approval request '${id}': no agent has asked for one here`);
        const a = await new ApprovalStore(store.driver).decide(store, id, {
          approved,
          by: o.as ?? userInfo().username,
          reason: o.reason ?? null,
          remember: (o.remember ?? 'once') as Remember,
        });
        io.out(`${approved ? 'approved' : 'denied'} ${a.tool} ${args(a.arguments)} for ${a.executionId}`);
      });
    };
  approvals
    .command('approve')
    .description('allow the call an agent waits on')
    .argument('<id>', 'request id (baton approvals list)')
    .option(
      '--remember <scope>',
      "once (default), session (the rest of the agent's run) or always (the project's policy file)",
    )
    .option('--reason <text>', 'why, for the audit log')
    .option('--as <name>', 'who approves (default: your user name)')
    .action(decide(true));
  approvals
    .command('deny')
    .description('refuse the call an agent waits on; the agent is told, with the reason')
    .argument('<id>', 'request id (baton approvals list)')
    .option('--reason <text>', 'why: the agent sees it')
    .option('--as <name>', 'who denies (default: your user name)')
    .action(decide(false));
  return approvals;
}

export function auditCommand(globals: () => GlobalOptions, io: Io): Command {
  return new Command('audit')
    .description(
      'every permission decision on an agent tool call: tool, arguments (secrets masked), rule, decision, who, when',
    )
    .option('--execution <id>', "one agent run's decisions")
    .option('--since <duration>', 'decisions this recent (e.g. 24h, 7d)', '7d')
    .option('--limit <n>', 'at most this many', '1000')
    .option('--json', 'print JSON')
    .action(async (o: { execution?: string; since: string; limit: string; json?: boolean }) => {
      const since = Date.now() - toMs(o.since, '--since');
      const limit = Number(o.limit);
      if (!Number.isInteger(limit) || limit < 1)
        throw new BatonError('E_INVALID_OPTION', `--limit ${o.limit}: give a positive integer`);
      await withStore(globals(), async (store) => {
        const list = (await aiTablesExist(store.driver))
          ? await new AuditLog(store.driver).list({
              executionId: o.execution,
              since: o.execution ? 0 : since,
              limit,
            })
          : [];
        if (o.json) io.out(JSON.stringify(list, null, 2));
        else if (!list.length) io.out('no tool-call decisions recorded');
        else
          io.out(
            table(
              ['when', 'tool', 'arguments', 'decision', 'rule', 'by', 'reason', 'execution'],
              list.map((e) => [
                when(e.at),
                e.tool,
                args(e.arguments),
                e.decision,
                e.rule ?? '',
                e.decidedBy ?? '',
                e.reason ?? '',
                e.executionId,
              ]),
            ),
          );
      });
    });
}
