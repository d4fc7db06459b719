// The SLA monitor over stored tasks, with a controlled clock: warning and breach thresholds of two
// fixture types, pause, deduplication across a restart, alerts cleared when a task ends.
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createArchitect } from '../src/architect/architect.js';
import { logDisabledChannels } from '../src/architect/sla-monitor.js';
import { quietLogger } from '../../core/test/backends.js';
import { architectBackends, openArchitect, type TestArchitect } from './architect-helpers.js';

const MIN = 60_000;

for (const backend of architectBackends()) {
  describe(`SLA monitor (${backend})`, () => {
    let t: TestArchitect;
    afterEach(async () => {
      await t.close();
    });

    it('alerts once per severity change, pauses the clock, survives a restart and clears on end', async () => {
      t = await openArchitect(backend);
      const { tasks } = t.architect;
      const t0 = t.clock.t;
      const shell = await tasks.send({ type: 'shell', prompt: 'ls' }); // 5 min, warning 80, critical 100
      const deploy = await tasks.send({ type: 'deploy', prompt: 'ship' }); // 30 min, warning 70, critical 90

      t.clock.t = t0 + 3.9 * MIN;
      expect((await t.architect.checkSla()).alerts).toHaveLength(0);
      t.clock.t = t0 + 4 * MIN;
      let check = await t.architect.checkSla();
      expect(check.alerts.map((a) => [a.task_id, a.severity, a.previous])).toEqual([
        [shell.id, 'warning', 'ok'],
      ]);
      expect(check.alerts[0]!.message).toBe(`Task ${shell.id} is approaching SLA limit (80%)`);
      expect((await t.architect.checkSla()).alerts).toHaveLength(0);

      t.clock.t = t0 + 5 * MIN;
      await tasks.pause(deploy.id);
      check = await t.architect.checkSla();
      expect(check.alerts.map((a) => [a.task_id, a.severity, a.previous])).toEqual([
        [shell.id, 'critical', 'warning'],
      ]);
      expect(check.alerts[0]!.message).toBe(`Task ${shell.id} has breached SLA (5/5 min)`);
      expect(check.alerts[0]!.channels).toEqual(['dashboard', 'log']);

      // 25 paused minutes do not count: deploy stays at 5 of 30 minutes
      t.clock.t = t0 + 30 * MIN;
      expect((await t.architect.checkSla()).alerts).toHaveLength(0);
      await tasks.resume(deploy.id);
      t.clock.t = t0 + 51 * MIN; // 26 min on the clock: 86.7% ≥ 70
      check = await t.architect.checkSla();
      expect(check.alerts.map((a) => [a.task_id, a.severity])).toEqual([[deploy.id, 'warning']]);

      // a restarted monitor (a new process on the same store) repeats nothing
      const again = await createArchitect({
        store: t.store,
        rules: () => t.rules,
        now: () => t.clock.t,
        logger: quietLogger(),
      });
      expect((await again.checkSla()).alerts).toHaveLength(0);
      t.clock.t = t0 + 53 * MIN; // 28 min: 93% ≥ 90, and the restarted monitor sees the change
      check = await again.checkSla();
      expect(check.alerts.map((a) => [a.task_id, a.severity])).toEqual([[deploy.id, 'critical']]);

      const report = await t.architect.slaReport();
      expect(report.open_alerts.map((a) => [a.task_id, a.severity]).sort()).toEqual(
        [
          [shell.id, 'critical'],
          [deploy.id, 'critical'],
        ].sort(),
      );
      expect(report.tasks.find((s) => s.task_id === deploy.id)!.percent_used).toBeCloseTo((28 / 30) * 100, 5);

      await tasks.cancel(shell.id);
      check = await t.architect.checkSla();
      expect(check.cleared).toEqual([shell.id]);
      expect((await t.architect.slaReport()).open_alerts.map((a) => a.task_id)).toEqual([deploy.id]);
    });

    it('posts alerts to the webhook, reassigns on a reassign_task rule, and logs a disabled channel once', async () => {
      const received: unknown[] = [];
      const server = createServer((req: IncomingMessage, res) => {
        let body = '';
        req.on('data', (d: Buffer) => (body += d.toString()));
        req.on('end', () => {
          received.push(JSON.parse(body));
          res.end('ok');
        });
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/alerts`;
      try {
        t = await openArchitect(backend, (rules) => {
          rules.sla.notifications = { ...rules.sla.notifications, webhook: { enabled: true, url } };
          rules.sla.escalation_rules!.unshift({
            condition: 'percent_used >= 150',
            severity: 'critical',
            action: 'reassign_task',
            notification_channels: ['webhook'],
            message: 'Task {task_id} stuck at {percent_used}%: reassigning',
          });
        });
        const { tasks, sessions } = t.architect;
        const w = await sessions.register({ name: 'dev_worker1', provider: 'claude' });
        const task = await tasks.send({ type: 'shell', prompt: 'ls', target_session: 'dev_worker1' });
        await sessions.next(w);
        t.clock.t += 8 * MIN; // 160% of shell's 5 minutes
        const check = await t.architect.checkSla();
        expect(check.alerts.map((a) => [a.action, a.channels])).toEqual([['reassign_task', ['webhook']]]);
        expect(check.reassign).toEqual([task.id]);
        expect(received).toEqual([
          {
            alert: expect.objectContaining({
              task_id: task.id,
              severity: 'critical',
              message: `Task ${task.id} stuck at 160%: reassigning`,
            }),
          },
        ]);

        const lines: string[] = [];
        const log = { info: (_o: unknown, msg: string) => lines.push(msg) };
        logDisabledChannels({ ...t.architect.context, log: log as never });
        expect(lines).toEqual(['SLA channel sms skipped: enabled: false']);
      } finally {
        server.close();
      }
    });

    it('stores an alert without channels for a type with notify_on_breach: false', async () => {
      t = await openArchitect(backend);
      const task = await t.architect.tasks.send({ type: 'tmux', prompt: 'attach' }); // 1 min, notify_on_breach false
      t.clock.t += 1.5 * 60_000;
      const check = await t.architect.checkSla();
      expect(check.alerts.map((a) => [a.task_id, a.severity, a.channels])).toEqual([
        [task.id, 'critical', []],
      ]);
    });
  });
}
