// The schemas of the configuration kinds: the real Architect files and the seed's examples validate
// with no issue at all, and wrong values are reported with the right code and path.
import { readFileSync } from 'node:fs';
import { describe, it, expect } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';
import { routingRulesSchema } from '../src/config/kinds/routing-rules.js';
import { slaRulesSchema } from '../src/config/kinds/sla-rules.js';
import { llmProvidersSchema } from '../src/config/kinds/llm-providers.js';
import { llmFailoverPolicySchema } from '../src/config/kinds/llm-failover-policy.js';
import { uiConfigSchema } from '../src/config/kinds/ui-config.js';
import { workflowsSchema } from '../src/config/kinds/workflows.js';

// The real files of the Architect Dashboard, as examples/architect holds them (config.test.ts checks they
// are the shared fixtures byte for byte).
const FIXTURES = new URL('../../../examples/architect/baton/base/', import.meta.url);

function fixture(file: string): unknown {
  return parse(readFileSync(new URL(file, FIXTURES), 'utf8'));
}

/** Parses and expects no issue, printing them if there are any. */
function valid<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const r = schema.safeParse(value);
  if (!r.success) expect.fail(`unexpected issues:\n${JSON.stringify(r.error.issues, null, 2)}`);
  return r.data;
}

/** Parses and returns the issues, which must not be empty. */
function issues(schema: z.ZodType, value: unknown): z.core.$ZodIssue[] {
  const r = schema.safeParse(value);
  expect(r.success, 'expected the value to be rejected').toBe(false);
  return r.error?.issues ?? [];
}

/** A deep copy of `value` with each `[dotted.path, newValue]` set; `undefined` deletes the key. */
function edited<T>(value: T, edits: [string, unknown][]): T {
  const copy = structuredClone(value);
  for (const [path, v] of edits) {
    const keys = path.split('.');
    let node = copy as Record<string, unknown>;
    for (const k of keys.slice(0, -1)) node = node[k] as Record<string, unknown>;
    const last = keys[keys.length - 1];
    if (v === undefined) delete node[last];
    else node[last] = v;
  }
  return copy;
}

// The seed's ui_config.yaml (seed 003, section C), as written there.
const UI_CONFIG_YAML = `
version: "1.0"
theme:
  colors:
    status:
      planned: "#007bff"     # Blue
      in_progress: "#ffc107" # Yellow
      completed: "#28a745"   # Green
      blocked: "#dc3545"     # Red
      cancelled: "#6c757d"   # Grey

    priority:
      critical: "#dc3545"
      high: "#fd7e14"
      medium: "#ffc107"
      low: "#6c757d"

    health:
      healthy: "#28a745"
      degraded: "#ffc107"
      unhealthy: "#dc3545"

dashboard_panels:
  - id: "projects"
    title: "Projects"
    icon: "folder"
    order: 1
    enabled: true
    refresh_interval: 30

  - id: "tasks"
    title: "Task Queue"
    icon: "list-check"
    order: 2
    enabled: true
    refresh_interval: 10

  - id: "sessions"
    title: "Claude Sessions"
    icon: "terminal"
    order: 3
    enabled: true
    refresh_interval: 5

  - id: "errors"
    title: "Error Aggregation"
    icon: "exclamation-triangle"
    order: 4
    enabled: true
    refresh_interval: 30

table_configs:
  tasks:
    columns:
      - field: "id"
        header: "ID"
        width: "60px"
        sortable: true
      - field: "type"
        header: "Type"
        width: "120px"
        sortable: true
      - field: "status"
        header: "Status"
        width: "100px"
        sortable: true
        color_coded: true
      - field: "priority"
        header: "Priority"
        width: "80px"
        sortable: true
      - field: "created_at"
        header: "Created"
        width: "150px"
        sortable: true
        format: "relative_time"

    default_sort:
      field: "priority"
      order: "desc"

    page_size: 50
    enable_search: true
    enable_filters: true
`;

// The seed's workflows.yaml (seed 003, section E), as written there.
const WORKFLOWS_YAML = `
version: "1.0"
workflows:
  feature_development:
    description: "End-to-end feature development workflow"
    trigger:
      type: "api"
      endpoint: "/api/features"
      method: "POST"

    steps:
      - id: "create_task"
        type: "database"
        action: "insert"
        table: "tasks"
        data:
          type: "feature_development"
          status: "pending"
          priority: 5

      - id: "assign_to_session"
        type: "function"
        function: "route_task_to_session"
        input:
          task_id: "\${steps.create_task.id}"
          routing_rules: "\${config.routing_rules.feature_development}"

      - id: "create_environment"
        type: "conditional"
        condition: "\${config.routing_rules.feature_development.requires_env}"
        if_true:
          type: "function"
          function: "create_test_environment"
          input:
            port_range: "\${config.routing_rules.feature_development.port_range}"
            session_id: "\${steps.assign_to_session.session_id}"

      - id: "monitor_progress"
        type: "loop"
        condition: "\${steps.create_task.status} NOT IN ('completed', 'failed')"
        interval_seconds: 30
        max_iterations: 100
        actions:
          - type: "query"
            query: "tasks_by_id"
            params:
              id: "\${steps.create_task.id}"

          - type: "conditional"
            condition: "\${query.elapsed_minutes} > \${config.sla_rules[steps.create_task.type].target_minutes}"
            if_true:
              type: "notification"
              channel: "dashboard"
              message: "Task \${steps.create_task.id} exceeded SLA"

      - id: "create_pr"
        type: "conditional"
        condition: "\${config.routing_rules.feature_development.merge_via_pr}"
        if_true:
          type: "function"
          function: "create_pull_request"
          input:
            branch: "\${steps.create_environment.branch_name}"
            title: "Feature: \${steps.create_task.metadata.title}"

      - id: "cleanup"
        type: "function"
        function: "cleanup_environment"
        input:
          env_id: "\${steps.create_environment.env_id}"

    error_handling:
      - on_error: "any"
        action: "rollback"
        steps: ["create_environment", "create_task"]

      - on_error: "timeout"
        action: "reassign_task"
        to_session: "dev_worker2"

  bug_fix:
    description: "Urgent bug fix workflow"
    trigger:
      type: "api"
      endpoint: "/api/bugs"
      method: "POST"

    steps:
      - id: "create_task"
        type: "database"
        action: "insert"
        table: "tasks"
        data:
          type: "bug_fix"
          status: "pending"
          priority: 9  # High priority

      - id: "assign_to_session"
        type: "function"
        function: "route_task_to_session"
        input:
          task_id: "\${steps.create_task.id}"
          routing_rules: "\${config.routing_rules.bug_fix}"
          urgent: true

      - id: "notify_stakeholders"
        type: "notification"
        channel: "dashboard"
        message: "URGENT: Bug fix task \${steps.create_task.id} assigned to \${steps.assign_to_session.session_id}"
`;

describe('routing_rules', () => {
  const file = fixture('routing_rules.yaml');

  it('validates the real file and reads values back', () => {
    const v = valid(routingRulesSchema, file);
    expect(v.version).toBe('1.0');
    expect(v.environment_routing?.bug_fix.priority).toBe(9);
    expect(v.environment_routing?.bug_fix.urgent).toBe(true);
    expect(v.environment_routing?.ui_improvement.port_range).toEqual([6001, 6010]);
    expect(v.supported_providers?.find((p) => p.name === 'codex')?.reliability_score).toBe(0.9);
    expect(v.load_balancing?.strategy).toBe('weighted_round_robin');
    expect(v.fallback_rules?.[3].max_reassignments).toBe(2);
  });

  it('refuses a priority of 11', () => {
    const [i] = issues(routingRulesSchema, edited(file, [['environment_routing.bug_fix.priority', 11]]));
    expect(i.code).toBe('too_big');
    expect(i.path).toEqual(['environment_routing', 'bug_fix', 'priority']);
  });

  it('refuses a string priority', () => {
    const [i] = issues(routingRulesSchema, edited(file, [['environment_routing.bug_fix.priority', 'high']]));
    expect(i.code).toBe('invalid_type');
    expect(i.path).toEqual(['environment_routing', 'bug_fix', 'priority']);
  });

  it('refuses a reversed port range and a port out of range', () => {
    const [i] = issues(
      routingRulesSchema,
      edited(file, [['environment_routing.testing.port_range', [6010, 6001]]]),
    );
    expect(i.code).toBe('custom');
    expect(i.path).toEqual(['environment_routing', 'testing', 'port_range']);
    const [j] = issues(
      routingRulesSchema,
      edited(file, [['environment_settings.default_port_range', [6001, 70000]]]),
    );
    expect(j.code).toBe('too_big');
    expect(j.path).toEqual(['environment_settings', 'default_port_range', 1]);
  });

  it('reports an unknown key as unrecognized_keys', () => {
    const [i] = issues(routingRulesSchema, edited(file, [['environment_routing.bug_fix.priorty', 9]]));
    expect(i.code).toBe('unrecognized_keys');
    expect(i.path).toEqual(['environment_routing', 'bug_fix']);
    expect(i.code === 'unrecognized_keys' && i.keys).toEqual(['priorty']);
  });

  it('refuses a load balancing strategy not in the list', () => {
    const [i] = issues(routingRulesSchema, edited(file, [['load_balancing.strategy', 'fastest']]));
    expect(i.code).toBe('invalid_value');
    expect(i.path).toEqual(['load_balancing', 'strategy']);
  });
});

describe('sla_rules', () => {
  const file = fixture('sla_rules.yaml');

  it('validates the real file and reads values back', () => {
    const v = valid(slaRulesSchema, file);
    expect(v.sla_targets?.deploy.warning_percent).toBe(70);
    expect(v.sla_targets?.deploy.target_minutes).toBe(30);
    expect(v.sla_targets?.tmux.notify_on_breach).toBe(false);
    expect(v.escalation_rules?.map((r) => r.severity)).toEqual(['critical', 'warning', 'ok']);
    expect(v.notifications?.sms?.numbers).toEqual([]);
    expect(v.notifications?.log?.level).toBe('WARNING');
  });

  it('refuses warning_percent above critical_percent, on warning_percent', () => {
    const [i] = issues(slaRulesSchema, edited(file, [['sla_targets.deploy.warning_percent', 95]]));
    expect(i.code).toBe('custom');
    expect(i.path).toEqual(['sla_targets', 'deploy', 'warning_percent']);
    expect(i.message).toMatch(/critical_percent/);
  });

  it('refuses an unknown severity and an empty condition', () => {
    const bad = edited(file, [
      ['escalation_rules.0.severity', 'severe'],
      ['escalation_rules.1.condition', ''],
    ]);
    const found = issues(slaRulesSchema, bad).map((i) => [i.code, i.path.join('.')]);
    expect(found).toEqual([
      ['invalid_value', 'escalation_rules.0.severity'],
      ['too_small', 'escalation_rules.1.condition'],
    ]);
  });

  it('refuses a target of 0 minutes', () => {
    const [i] = issues(slaRulesSchema, edited(file, [['sla_targets.git.target_minutes', 0]]));
    expect(i.code).toBe('too_small');
    expect(i.path).toEqual(['sla_targets', 'git', 'target_minutes']);
  });
});

describe('llm_providers', () => {
  const file = fixture('llm_providers.yaml');

  it('validates the real file, with its ${…} references still raw, and reads values back', () => {
    const v = valid(llmProvidersSchema, file);
    expect(v.failover_order).toEqual(['claude', 'ollama', 'openai']);
    expect(v.providers?.claude.api_key).toBe('${ANTHROPIC_API_KEY}');
    expect(v.providers?.ollama.api_key).toBeUndefined();
    expect(v.providers?.ollama.circuit_breaker?.backoff_multiplier).toBe(1.5);
    expect(v.providers?.gemini.cost_per_1k_prompt).toBe(0.00015);
    expect(v.budget?.alert_webhook).toBeNull();
    expect(v.global?.log_level).toBe('INFO');
  });

  it('accepts an api_key that expanded to null (an unset variable)', () => {
    valid(llmProvidersSchema, edited(file, [['providers.claude.api_key', null]]));
  });

  it('refuses a negative cost and a failover_order naming an unknown provider', () => {
    const bad = edited(file, [
      ['providers.openai.cost_per_1k_prompt', -1],
      ['failover_order', ['claude', 'olama']],
    ]);
    const found = issues(llmProvidersSchema, bad).map((i) => [i.code, i.path.join('.')]);
    expect(found).toContainEqual(['too_small', 'providers.openai.cost_per_1k_prompt']);
    // The cross-reference check runs only on a value that is otherwise valid.
    const [i] = issues(llmProvidersSchema, edited(file, [['failover_order', ['claude', 'olama']]]));
    expect(i.code).toBe('custom');
    expect(i.path).toEqual(['failover_order', 1]);
  });

  it('refuses a circuit breaker whose recovery timeout exceeds its maximum', () => {
    const [i] = issues(
      llmProvidersSchema,
      edited(file, [['providers.claude.circuit_breaker.recovery_timeout', 600]]),
    );
    expect(i.code).toBe('custom');
    expect(i.path).toEqual(['providers', 'claude', 'circuit_breaker', 'recovery_timeout']);
  });
});

describe('llm_failover_policy', () => {
  const file = fixture('llm_failover_policy.yaml');

  it('validates the real file and reads values back', () => {
    const v = valid(llmFailoverPolicySchema, file);
    expect(v.use_cases?.code_generation.preferred_order).toEqual(['claude', 'openai', 'ollama']);
    expect(v.use_cases?.chat.settings?.temperature).toBe(1);
    expect(v.routing?.by_task_type?.rules?.[0].use_case).toBe('code_generation');
    expect(v.quality?.thresholds?.medium).toBe(0.75);
    expect(v.cost_optimization?.low_priority_hours).toContain(23);
    expect(v.monitoring?.alert_webhook).toBe('${ALERT_WEBHOOK_URL:-null}');
  });

  it('refuses an hour of 24, a threshold above 1, a bad regex and an unknown use case', () => {
    const bad = edited(file, [
      ['routing.by_time.rules.0.hours', [0, 24]],
      ['quality.thresholds.high', 1.5],
      ['routing.by_task_type.rules.1.match', 'analyze|(review'],
    ]);
    const found = issues(llmFailoverPolicySchema, bad).map((i) => [i.code, i.path.join('.')]);
    expect(found).toEqual([
      ['custom', 'routing.by_task_type.rules.1.match'],
      ['too_big', 'routing.by_time.rules.0.hours.1'],
      ['too_big', 'quality.thresholds.high'],
    ]);
    const [i] = issues(
      llmFailoverPolicySchema,
      edited(file, [['routing.by_task_type.rules.2.use_case', 'chatting']]),
    );
    expect(i.code).toBe('custom');
    expect(i.path).toEqual(['routing', 'by_task_type', 'rules', 2, 'use_case']);
  });
});

describe('ui_config', () => {
  const seed = parse(UI_CONFIG_YAML);

  it("validates the seed's example", () => {
    const v = valid(uiConfigSchema, seed);
    expect(v.theme?.colors?.status?.blocked).toBe('#dc3545');
    expect(v.dashboard_panels?.map((p) => p.id)).toEqual(['projects', 'tasks', 'sessions', 'errors']);
    expect(v.table_configs?.tasks.default_sort).toEqual({ field: 'priority', order: 'desc' });
  });

  it('refuses a bad color, a default sort on no column and a duplicate panel', () => {
    const bad = edited(seed, [
      ['theme.colors.health.healthy', '#12345'],
      ['table_configs.tasks.default_sort.field', 'priorty'],
      ['dashboard_panels.1.id', 'projects'],
    ]);
    const found = issues(uiConfigSchema, bad).map((i) => [i.code, i.path.join('.')]);
    expect(found).toEqual([
      ['invalid_format', 'theme.colors.health.healthy'],
      ['custom', 'dashboard_panels.1.id'],
      ['custom', 'table_configs.tasks.default_sort.field'],
    ]);
  });
});

describe('workflows', () => {
  const seed = parse(WORKFLOWS_YAML);

  it("validates the seed's example", () => {
    const v = valid(workflowsSchema, seed);
    const fd = v.workflows?.feature_development;
    expect(fd?.trigger).toEqual({ type: 'api', endpoint: '/api/features', method: 'POST' });
    expect(fd?.steps.map((s) => s.id)).toEqual([
      'create_task',
      'assign_to_session',
      'create_environment',
      'monitor_progress',
      'create_pr',
      'cleanup',
    ]);
    expect(fd?.steps[3].max_iterations).toBe(100);
    expect(fd?.error_handling?.[0].steps).toEqual(['create_environment', 'create_task']);
    expect(v.workflows?.bug_fix.steps[2].type).toBe('notification');
  });

  it('refuses a step of unknown type', () => {
    const [i] = issues(workflowsSchema, edited(seed, [['workflows.bug_fix.steps.1.type', 'fuction']]));
    expect(i.code).toBe('invalid_value');
    expect(i.path).toEqual(['workflows', 'bug_fix', 'steps', 1, 'type']);
  });

  it('refuses duplicate step ids, pointing at the duplicate', () => {
    const [i] = issues(workflowsSchema, edited(seed, [['workflows.bug_fix.steps.2.id', 'create_task']]));
    expect(i.code).toBe('custom');
    expect(i.path).toEqual(['workflows', 'bug_fix', 'steps', 2, 'id']);
    // Nested steps that have an id count too.
    const [j] = issues(
      workflowsSchema,
      edited(seed, [['workflows.feature_development.steps.3.actions.0.id', 'cleanup']]),
    );
    expect(j.path).toEqual(['workflows', 'feature_development', 'steps', 5, 'id']);
  });

  it('refuses a max_iterations of 0, and a loop without max_iterations', () => {
    const [i] = issues(
      workflowsSchema,
      edited(seed, [['workflows.feature_development.steps.3.max_iterations', 0]]),
    );
    expect(i.code).toBe('too_small');
    expect(i.path).toEqual(['workflows', 'feature_development', 'steps', 3, 'max_iterations']);
    const [j] = issues(
      workflowsSchema,
      edited(seed, [['workflows.feature_development.steps.3.max_iterations', undefined]]),
    );
    expect(j.code).toBe('custom');
    expect(j.path).toEqual(['workflows', 'feature_development', 'steps', 3, 'max_iterations']);
    expect(j.message).toMatch(/bounded/);
  });

  it('reports unknown keys as unrecognized_keys, at the top and in nested steps', () => {
    const [i] = issues(workflowsSchema, edited(seed, [['workflows.bug_fix.steps.0.tabel', 'tasks']]));
    expect(i.code).toBe('unrecognized_keys');
    expect(i.path).toEqual(['workflows', 'bug_fix', 'steps', 0]);
    const [j] = issues(
      workflowsSchema,
      edited(seed, [['workflows.feature_development.steps.2.if_true.functon', 'x']]),
    );
    expect(j.code).toBe('unrecognized_keys');
    expect(j.path).toEqual(['workflows', 'feature_development', 'steps', 2, 'if_true']);
  });

  it('explains a nested step of unknown type (a step or a list of steps)', () => {
    const [i] = issues(
      workflowsSchema,
      edited(seed, [['workflows.feature_development.steps.2.if_true.type', 'fn']]),
    );
    expect(i.code).toBe('invalid_union');
    expect(i.path).toEqual(['workflows', 'feature_development', 'steps', 2, 'if_true']);
    expect(i.message).toMatch(/^not a valid step: type: Invalid option/);
  });

  it('refuses a key of another step type, a bad id, a bad trigger and a rollback of an unknown step', () => {
    const bad = edited(seed, [
      ['workflows.feature_development.steps.1.table', 'tasks'],
      ['workflows.feature_development.steps.5.id', '5cleanup'],
      ['workflows.feature_development.trigger.type', 'schedule'],
      ['workflows.feature_development.error_handling.0.steps', ['create_environment', 'create_tsk']],
    ]);
    const found = issues(workflowsSchema, bad).map((i) => [i.code, i.path.slice(2).join('.')]);
    expect(found).toEqual([
      ['custom', 'trigger.cron'],
      ['custom', 'trigger.endpoint'],
      ['custom', 'trigger.method'],
      ['custom', 'steps.1.table'],
      ['invalid_format', 'steps.5.id'],
      ['custom', 'error_handling.0.steps.1'],
    ]);
    const [i] = issues(
      workflowsSchema,
      edited(seed, [['workflows.feature_development.error_handling.0.steps.1', 'create_tsk']]),
    );
    expect(i.path).toEqual(['workflows', 'feature_development', 'error_handling', 0, 'steps', 1]);
  });

  it('accepts the step types beyond the seed, with retry, timeout, compensate and finally', () => {
    const yaml = `
workflows:
  nightly:
    trigger: { type: schedule, cron: "0 3 * * *" }
    timeout: 2h
    steps:
      - id: fetch
        type: http
        url: "https://example.com/items"
        retry: { max_attempts: 3, backoff: { base_delay: 1s, factor: 2 } }
        timeout: 30
      - id: each
        type: foreach
        items: "\${steps.fetch.body}"
        concurrency: 4
        steps:
          - type: set
            vars: { last: "\${item}" }
      - id: approve
        type: wait
        approval: { prompt: "Ship it?", approvers: [lead] }
      - id: route
        type: switch
        value: "\${input.kind}"
        cases:
          a: { type: emit, event: kind_a }
          b: [{ type: subflow, workflow: other, wait: false }]
        default: { type: fail, message: "unknown kind" }
      - id: both
        type: parallel
        branches:
          - { type: assign, task: { type: bug_fix, prompt: "fix it" } }
          - { type: wait, duration: 5m }
      - id: write
        type: database
        action: update
        table: tasks
        where: { id: 1 }
        data: { status: done }
        compensate: { type: database, action: update, table: tasks, where: { id: 1 }, data: { status: pending } }
    error_handling:
      - { on_error: any, action: rollback, steps: [write] }
    finally:
      - { id: log_end, type: notification, channel: log, message: "done" }
`;
    valid(workflowsSchema, parse(yaml));
  });
});

describe('JSON Schema', () => {
  const schemas = {
    routing_rules: routingRulesSchema,
    sla_rules: slaRulesSchema,
    llm_providers: llmProvidersSchema,
    llm_failover_policy: llmFailoverPolicySchema,
    ui_config: uiConfigSchema,
    workflows: workflowsSchema,
  };
  for (const [kind, schema] of Object.entries(schemas)) {
    it(`z.toJSONSchema works for ${kind}`, () => {
      const json = z.toJSONSchema(schema) as {
        type?: string;
        additionalProperties?: unknown;
        description?: string;
      };
      expect(json.type).toBe('object');
      expect(json.additionalProperties).toBe(false);
      expect(json.description).toBeTruthy();
      expect(JSON.stringify(json).length).toBeGreaterThan(500);
    });
  }
});
