// The SLA monitor's pure logic on the real sla_rules.yaml, with the clock in the test's hands: the
// exact instants where severity changes, pauses, measure_from, notification rules, alert dedup across
// a restart, bad conditions, and the metrics on hand-computed data.
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import type { SlaRules } from '../src/config/kinds/sla-rules.js';
import {
  AlertTracker,
  QueueDepthEma,
  checkSlaRules,
  disabledChannels,
  elapsedMs,
  fillSlaMessage,
  slaMetrics,
  slaStatus,
  targetFor,
  type SlaTask,
} from '../src/architect/sla/index.js';
import { EXAMPLE_CONFIG, FIXTURE_ENV } from './config-helpers.js';

const T0 = Date.UTC(2025, 0, 6, 9, 0, 0);
const MIN = 60_000;
/** The controllable clock: `at(21)` is 21 minutes after T0. */
const at = (minutes: number): number => T0 + minutes * MIN;

let rules: SlaRules;
beforeAll(async () => {
  const config = await loadConfig(EXAMPLE_CONFIG, { env: FIXTURE_ENV });
  rules = config.value.sla_rules!;
});

/** The fixture's rules with edits applied to a mutable copy (the loaded ones are frozen). */
function edited(edit: (r: SlaRules) => void): SlaRules {
  const copy = structuredClone(rules);
  edit(copy);
  return copy;
}

function task(type: string, extra: Partial<SlaTask> = {}): SlaTask {
  return { id: `${type}-1`, type, priority: 5, status: 'running', created_at: T0, ...extra };
}

describe('elapsedMs', () => {
  it('counts from creation, stops at the end, and never runs backwards', () => {
    expect(elapsedMs({ created_at: T0 }, at(7))).toBe(7 * MIN);
    expect(elapsedMs({ created_at: T0, ended_at: at(3) }, at(7))).toBe(3 * MIN);
    expect(elapsedMs({ created_at: T0 }, at(-1))).toBe(0);
  });

  it('subtracts overlapping and open pauses once', () => {
    const pauses = [
      { from: at(2), to: at(5) },
      { from: at(4), to: at(6) }, // overlaps the first: 2–6 is 4 minutes
      { from: at(8) }, // open
    ];
    expect(elapsedMs({ created_at: T0, pauses }, at(7))).toBe(3 * MIN);
    expect(elapsedMs({ created_at: T0, pauses }, at(20))).toBe(4 * MIN);
  });

  it('with measure_from started, starts at the first start and ignores pauses before it', () => {
    const t = { created_at: T0, started_at: at(10), pauses: [{ from: at(2), to: at(12) }] };
    expect(elapsedMs({ created_at: T0 }, at(5), 'started')).toBe(0);
    expect(elapsedMs(t, at(20), 'started')).toBe(8 * MIN);
    expect(elapsedMs(t, at(20), 'created')).toBe(10 * MIN);
  });
});

describe('slaStatus on the fixture', () => {
  it('deploy (30 min, 70/90): ok until 21:00, warning until 27:00, then critical', () => {
    const d = task('deploy', { id: 'd1' });
    const before = slaStatus(rules, d, at(21) - 1)!;
    expect(before).toMatchObject({ severity: 'ok', action: 'normal_display', color: 'green', notify: false });
    expect(before.message).toBeUndefined();

    const warning = slaStatus(rules, d, at(21))!;
    expect(warning).toMatchObject({
      target_key: 'deploy',
      target_minutes: 30,
      percent_used: 70,
      elapsed_minutes: 21,
      severity: 'warning',
      action: 'highlight_task',
      color: 'yellow',
      rule_index: 1,
      message: 'Task d1 is approaching SLA limit (70%)',
      notification_channels: [],
      notify: false,
    });
    expect(slaStatus(rules, d, at(27) - 1)!.severity).toBe('warning');

    const critical = slaStatus(rules, d, at(27))!;
    expect(critical).toMatchObject({
      percent_used: 90,
      severity: 'critical',
      action: 'alert_user',
      rule_index: 0,
      message: 'Task d1 has breached SLA (27/30 min)',
      notification_channels: ['dashboard', 'log'],
      notify: true,
    });
    expect(critical.color).toBeUndefined();
  });

  it('shell (5 min, 80/100): warning at 4:00, critical at 5:00, messages rounded down', () => {
    const s = task('shell', { id: 's1' });
    expect(slaStatus(rules, s, at(4) - 1)!.severity).toBe('ok');
    expect(slaStatus(rules, s, at(4))!).toMatchObject({
      severity: 'warning',
      message: 'Task s1 is approaching SLA limit (80%)',
    });
    // 299.4 s of 300 s is 99.8 %: shown as 99.8, never as a rounded-up 100
    expect(slaStatus(rules, s, at(5) - 600)!).toMatchObject({
      severity: 'warning',
      message: 'Task s1 is approaching SLA limit (99.8%)',
    });
    expect(slaStatus(rules, s, at(5))!).toMatchObject({
      severity: 'critical',
      message: 'Task s1 has breached SLA (5/5 min)',
    });
    expect(slaStatus(rules, s, at(7.5))!.message).toBe('Task s1 has breached SLA (7.5/5 min)');
  });

  it('falls back to default for a type without a target, and to nothing without a default', () => {
    expect(targetFor(rules, 'bug_fix')).toEqual({
      key: 'default',
      target_minutes: 10,
      warning_percent: 80,
      critical_percent: 100,
      notify_on_breach: true,
      measure_from: 'created',
    });
    expect(targetFor(rules, 'constructor')!.key).toBe('default');
    const b = task('bug_fix');
    expect(slaStatus(rules, b, at(8))).toMatchObject({
      target_key: 'default',
      task_type: 'bug_fix',
      severity: 'warning',
    });
    const noDefault = edited((r) => delete r.sla_targets!.default);
    expect(targetFor(noDefault, 'bug_fix')).toBeUndefined();
    expect(slaStatus(noDefault, b, at(100))).toBeUndefined();
  });

  it('stops the clock while paused and resumes it', () => {
    const paused = task('shell', { pauses: [{ from: at(1) }] });
    expect(slaStatus(rules, paused, at(60))!).toMatchObject({ elapsed_minutes: 1, severity: 'ok' });
    const resumed = task('shell', { pauses: [{ from: at(1), to: at(11) }] });
    expect(slaStatus(rules, resumed, at(14) - 1)!.severity).toBe('ok');
    expect(slaStatus(rules, resumed, at(14))!).toMatchObject({ elapsed_minutes: 4, severity: 'warning' });
    expect(slaStatus(rules, resumed, at(15))!.severity).toBe('critical');
  });

  it('measures from the start with measure_from: started', () => {
    const r = edited((x) => (x.sla_targets!.deploy!.measure_from = 'started'));
    const queued = task('deploy', { status: 'pending' });
    expect(slaStatus(r, queued, at(40))!).toMatchObject({
      measure_from: 'started',
      elapsed_minutes: 0,
      severity: 'ok',
    });
    const started = task('deploy', { started_at: at(10), pauses: [{ from: at(2), to: at(5) }] });
    expect(slaStatus(r, started, at(31) - 1)!.severity).toBe('ok');
    expect(slaStatus(r, started, at(31))!).toMatchObject({ elapsed_minutes: 21, severity: 'warning' });
    // the fixture itself measures from creation
    expect(slaStatus(rules, started, at(31))!.severity).toBe('critical');
  });

  it('sends nothing for types with notify_on_breach: false (tmux, maintenance)', () => {
    const tmux = slaStatus(rules, task('tmux'), at(1))!;
    expect(tmux).toMatchObject({
      severity: 'critical',
      notification_channels: ['dashboard', 'log'],
      notify: false,
    });
    const maintenance = slaStatus(rules, task('maintenance'), at(10))!;
    expect(maintenance).toMatchObject({ severity: 'critical', notify: false });
    const { alert } = new AlertTracker().observe(task('tmux'), tmux);
    expect(alert).toMatchObject({ severity: 'critical', channels: [] });
  });

  it('drops the disabled sms channel and reports it once', () => {
    expect(disabledChannels(rules)).toEqual([
      { channel: 'sms', reason: 'enabled: false', path: 'sla_rules.notifications.sms.enabled' },
    ]);
    const withSms = edited(
      (r) => (r.escalation_rules![0]!.notification_channels = ['dashboard', 'sms', 'log']),
    );
    expect(slaStatus(withSms, task('shell'), at(5))!.notification_channels).toEqual(['dashboard', 'log']);
    const webhook = edited((r) => {
      r.escalation_rules![0]!.notification_channels = ['webhook'];
      r.notifications!.webhook = { url: null };
    });
    expect(disabledChannels(webhook).map((d) => d.channel)).toEqual(['sms', 'webhook']);
    expect(slaStatus(webhook, task('shell'), at(5))).toMatchObject({
      notification_channels: [],
      notify: false,
    });
  });

  it('passes priority, status, session and task_type to conditions', () => {
    const r = edited((x) =>
      x.escalation_rules!.unshift({
        condition: "session == null and priority >= 8 and status == 'pending' and task_type == 'deploy'",
        severity: 'warning',
        action: 'reassign_task',
        message: '{task_id} waits: {elapsed_minutes} min, {unknown} kept',
      }),
    );
    const urgent = task('deploy', { id: 'u1', priority: 9, status: 'pending' });
    expect(slaStatus(r, urgent, at(2.25))).toMatchObject({
      rule_index: 0,
      action: 'reassign_task',
      message: 'u1 waits: 2.2 min, {unknown} kept',
    });
    expect(slaStatus(r, { ...urgent, session: 'codex' }, at(2))!.rule_index).toBe(3);
  });
});

describe('checkSlaRules', () => {
  it('finds no problem in the fixture, and compiles once per rules object', () => {
    expect(checkSlaRules(rules)).toEqual([]);
    expect(checkSlaRules(rules)).toBe(checkSlaRules(rules));
  });

  it('reports a condition that does not compile with its key path, and slaStatus refuses the rules', () => {
    const bad = edited((r) => {
      r.escalation_rules![1]!.condition = 'percent_used >= ';
      r.escalation_rules![2]!.condition = 'percent_usd < warning_percent';
    });
    const problems = checkSlaRules(bad);
    expect(problems.map((p) => [p.path, p.code])).toEqual([
      ['sla_rules.escalation_rules[1].condition', 'E_PARSE'],
      ['sla_rules.escalation_rules[2].condition', 'E_UNKNOWN_NAME'],
    ]);
    expect(problems[0]!.message).toMatch(/at 1:\d+/);
    expect(problems[0]!.frame).toContain('^');
    expect(problems[1]!.message).toContain("did you mean 'percent_used'");
    expect(() => slaStatus(bad, task('shell'), at(1))).toThrow(
      /sla_rules\.escalation_rules\[1\]\.condition: .* \(and 1 more\)/,
    );
  });

  it('reports a condition that cannot give true or false', () => {
    const bad = edited((r) => (r.escalation_rules![0]!.condition = 'percent_used * 2'));
    expect(checkSlaRules(bad)).toEqual([
      {
        path: 'sla_rules.escalation_rules[0].condition',
        code: 'E_TYPE',
        message: 'a condition must give true or false, not a scalar',
      },
    ]);
  });
});

describe('AlertTracker', () => {
  it('alerts once per severity change, and survives a restart through JSON', () => {
    const d = task('deploy', { id: 'd1' });
    const tracker = new AlertTracker();
    expect(tracker.observe(d, slaStatus(rules, d, at(10)))).toEqual({});
    const warning = tracker.observe(d, slaStatus(rules, d, at(21)));
    expect(warning.alert).toEqual({
      task_id: 'd1',
      severity: 'warning',
      previous: 'ok',
      action: 'highlight_task',
      message: 'Task d1 is approaching SLA limit (70%)',
      channels: [],
    });
    expect(tracker.observe(d, slaStatus(rules, d, at(22)))).toEqual({});

    // restart: the state went through JSON; the same observation gives nothing
    const stored = JSON.stringify(tracker);
    const restarted = new AlertTracker(JSON.parse(stored) as Record<string, unknown>);
    expect(restarted.observe(d, slaStatus(rules, d, at(22)))).toEqual({});

    // down from 22 to 40 min: the move to critical is reported exactly once
    const down = new AlertTracker(JSON.parse(stored) as Record<string, unknown>);
    const after = [40, 41, 42].map((m) => down.observe(d, slaStatus(rules, d, at(m))));
    expect(after.filter((o) => o.alert)).toHaveLength(1);
    expect(after[0]!.alert).toMatchObject({
      severity: 'critical',
      previous: 'warning',
      message: 'Task d1 has breached SLA (40/30 min)',
      channels: ['dashboard', 'log'],
    });
    expect(down.state).toEqual({ d1: 'critical' });
  });

  it('jumps straight from ok to critical with one alert', () => {
    const s = task('shell', { id: 's9' });
    const tracker = new AlertTracker();
    expect(tracker.observe(s, slaStatus(rules, s, at(1)))).toEqual({});
    expect(tracker.observe(s, slaStatus(rules, s, at(6))).alert).toMatchObject({
      severity: 'critical',
      previous: 'ok',
    });
  });

  it('clears the alert when the task ends, or drops back to ok, and forgets the task', () => {
    const s = task('shell', { id: 's2' });
    const tracker = new AlertTracker();
    tracker.observe(s, slaStatus(rules, s, at(6)));
    const ended = { ...s, ended_at: at(7), status: 'completed' };
    expect(tracker.observe(ended, slaStatus(rules, ended, at(8)))).toEqual({ clear: true });
    expect(tracker.observe(ended, slaStatus(rules, ended, at(9)))).toEqual({});
    expect(tracker.state).toEqual({});

    // a reload that raises the target brings a warned task back to ok
    tracker.observe(s, slaStatus(rules, s, at(4)));
    const relaxed = edited((r) => (r.sla_targets!.shell!.target_minutes = 60));
    expect(tracker.observe(s, slaStatus(relaxed, s, at(4.5)))).toEqual({ clear: true });
  });

  it('refuses a state that is not task id → severity', () => {
    expect(() => new AlertTracker({ t1: 'ok' })).toThrow(/expected "warning" or "critical"/);
  });
});

describe('metrics', () => {
  const NOW = at(10_000);
  const ended = (type: string, endMinutesAgo: number, minutes: number, extra: object = {}) => ({
    type,
    created_at: NOW - (endMinutesAgo + minutes) * MIN,
    ended_at: NOW - endMinutesAgo * MIN,
    status: 'completed',
    ...extra,
  });

  it('computes compliance and nearest-rank p95 per type over 1 h, 24 h and 7 d', () => {
    const tasks = [
      ended('shell', 10, 4), // met; in every window
      ended('shell', 20, 8, { pauses: [{ from: NOW - 26 * MIN, to: NOW - 22 * MIN }] }), // 4 min on the clock: met
      ended('shell', 120, 6), // missed; 24 h and 7 d
      ended('shell', 2 * 24 * 60, 5), // exactly the target: met; 7 d only
      ended('shell', 30, 50, { status: 'cancelled' }), // left out
      ended('shell', 8 * 24 * 60, 1), // older than 7 d
      // bug_fix uses default (10 min): 1..20 min, half within the target
      ...Array.from({ length: 20 }, (_, i) => ended('bug_fix', 5, i + 1)),
    ];
    const report = slaMetrics(rules, tasks, NOW);
    expect(report.shell).toEqual({
      '1h': { finished: 2, met: 2, compliance: 1, p95_ms: 4 * MIN },
      '24h': { finished: 3, met: 2, compliance: 2 / 3, p95_ms: 6 * MIN },
      '7d': { finished: 4, met: 3, compliance: 0.75, p95_ms: 6 * MIN },
    });
    // nearest rank: ceil(0.95 × 20) = the 19th of 20
    expect(report.bug_fix!['1h']).toEqual({ finished: 20, met: 10, compliance: 0.5, p95_ms: 19 * MIN });
    expect(Object.keys(report).sort()).toEqual(['bug_fix', 'shell']);
    const noDefault = edited((r) => delete r.sla_targets!.default);
    expect(Object.keys(slaMetrics(noDefault, tasks, NOW))).toEqual(['shell']);
  });

  it('smooths the queue depth with an EMA over intervals, restart-safe', () => {
    // period 3: k = 0.5; seeded with the first value
    const ema = new QueueDepthEma({ period: 3, intervalMs: MIN });
    expect(ema.value).toBeNull();
    expect(ema.sample(0, 4)).toBe(4);
    expect(ema.sample(30_000, 6)).toBe(6); // same interval: its last depth counts
    expect(ema.sample(60_000, 2)).toBe(4); // interval 0 closed at 6; 6 + 0.5 × (2 − 6)
    const saved = JSON.parse(JSON.stringify(ema.state)) as typeof ema.state;
    // interval 1 closes at 2 (→ 4), interval 2 repeats 2 (→ 3), interval 3 forms at 10: 3 + 0.5 × 7
    expect(ema.sample(180_000, 10)).toBe(6.5);
    expect(ema.sample(10_000, 100)).toBe(6.5); // an interval already closed does not change

    const restored = new QueueDepthEma({ period: 3, intervalMs: MIN }, saved);
    expect(restored.value).toBe(4);
    expect(restored.sample(180_000, 10)).toBe(6.5);
  });
});

describe('fillSlaMessage', () => {
  it('fills the four names and leaves any other as written', () => {
    const values = { task_id: 't', elapsed_minutes: 4.35, target_minutes: 5, percent_used: 87 };
    expect(
      fillSlaMessage('{task_id} {elapsed_minutes}/{target_minutes} {percent_used}% {session} {}', values),
    ).toBe('t 4.3/5 87% {session} {}');
  });
});
