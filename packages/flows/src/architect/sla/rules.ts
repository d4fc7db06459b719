// Escalation conditions compiled once per rules object. A loaded configuration is immutable (a reload
// makes a new one), so the rules object's identity is the cache key and a reload compiles afresh.
import { compileExpression, isTaError, type CompiledExpression, type ExprType } from '@baton/ta';
import type { SlaRules } from '../../config/kinds/sla-rules.js';
import { NOTIFICATION_CHANNELS, disabledChannels, type NotificationChannel } from './channels.js';

/**
 * The variables an escalation `condition` can read, with their types. Declaring them lets a typo
 * (`percent_usd`) or a type error (`status == 3`) fail when the rules are checked, not on a tick.
 */
export const SLA_CONDITION_VARIABLES: Readonly<Record<string, ExprType>> = {
  percent_used: 'scalar',
  warning_percent: 'scalar',
  critical_percent: 'scalar',
  elapsed_minutes: 'scalar',
  target_minutes: 'scalar',
  task_type: 'string',
  priority: 'scalar',
  status: 'string',
  // null while the task has no session
  session: 'any',
};

/** Something wrong with an escalation rule, at a key path of the configuration (`Config.locate` gives file:line). */
export interface SlaRuleProblem {
  /** `sla_rules.escalation_rules[<i>].condition` */
  readonly path: string;
  /** The @baton/ta error code: `E_PARSE`, `E_UNKNOWN_NAME`, `E_TYPE`, … */
  readonly code: string;
  /** What is wrong, with the expression's `line:column` and hint. */
  readonly message: string;
  /** The condition with a caret under the offending part. */
  readonly frame?: string;
}

/** @internal What the evaluator needs of a rules object, computed once. */
export interface PreparedRules {
  /** One per escalation rule; undefined where the condition does not compile. */
  readonly conditions: readonly (CompiledExpression | undefined)[];
  readonly problems: readonly SlaRuleProblem[];
  readonly usable: ReadonlySet<NotificationChannel>;
}

const cache = new WeakMap<SlaRules, PreparedRules>();

/** @internal The compiled conditions and usable channels of `rules`, from the cache when it has them. */
export function prepareRules(rules: SlaRules): PreparedRules {
  let prepared = cache.get(rules);
  if (!prepared) {
    prepared = prepare(rules);
    cache.set(rules, prepared);
  }
  return prepared;
}

function prepare(rules: SlaRules): PreparedRules {
  const problems: SlaRuleProblem[] = [];
  const conditions = (rules.escalation_rules ?? []).map((rule, i) => {
    const path = `sla_rules.escalation_rules[${i}].condition`;
    try {
      const compiled = compileExpression(rule.condition, { variables: SLA_CONDITION_VARIABLES });
      if (compiled.type === 'bool' || compiled.type === 'any') return compiled;
      problems.push({
        path,
        code: 'E_TYPE',
        message: `a condition must give true or false, not a ${compiled.type}`,
      });
    } catch (e) {
      if (!isTaError(e)) throw e;
      const frame = typeof e.details.frame === 'string' ? e.details.frame : undefined;
      problems.push({ path, code: e.code, message: e.message, ...(frame === undefined ? {} : { frame }) });
    }
    return undefined;
  });
  const dropped = new Set(disabledChannels(rules).map((d) => d.channel));
  const usable = new Set(NOTIFICATION_CHANNELS.filter((c) => !dropped.has(c)));
  return { conditions, problems, usable };
}

/**
 * The escalation conditions of `rules` that do not compile or cannot give true or false, each with its
 * key path. The loader or the CLI reports them with `file:line`; the evaluator refuses rules that have
 * any. The result is computed once per rules object.
 */
export function checkSlaRules(rules: SlaRules): readonly SlaRuleProblem[] {
  return prepareRules(rules).problems;
}
