// `baton flows plan`: a dry run. It walks a workflow with the input, the configuration and the
// allowed environment, runs nothing, and says for every step whether it would run and what its
// templates give. A value that needs a step's output (known only at run time) is shown as
// ⟨expression⟩; `set` steps are evaluated, so the variables they set are known further down.
import type { CompiledFlow, CompiledStep } from './compile.js';
import { render, RenderError, test, type Template } from './template.js';
import { configView, newScope, type Scope, type Snapshot } from './scope.js';

/** One step of a plan. */
export interface PlannedStep {
  /** The step's name in the history (its id, or its parent's name and its type). */
  readonly name: string;
  readonly type: string;
  /** Nesting depth, for indentation. */
  readonly depth: number;
  /** `yes`: it runs; `no`: its `if` (or its branch) is false; `maybe`: decided at run time. */
  readonly runs: 'yes' | 'no' | 'maybe';
  /** Why it is `no` or `maybe`. */
  readonly because?: string;
  /** Its templates, rendered as far as they are known. */
  readonly values: Readonly<Record<string, unknown>>;
}

/** Read of a value that only a run knows (a step's output). */
class Unknown extends Error {}

/** A record whose own fields are the known ones; reading any other throws {@link Unknown}. */
function partlyKnown(known: Record<string, unknown>): Record<string, unknown> {
  return new Proxy(known, {
    getOwnPropertyDescriptor: (target, key) => {
      const d = Reflect.getOwnPropertyDescriptor(target, key);
      if (d || typeof key === 'symbol') return d;
      throw new Unknown(String(key));
    },
  });
}

/** A template rendered where it is known; each unknown expression becomes `⟨source⟩`. */
function renderKnown(t: Template, scope: Scope): unknown {
  const attempt = (): unknown => {
    try {
      return render(t, scope);
    } catch (err) {
      // A step's output, a foreach item or a query result: known only when the run gets there.
      if (err instanceof Unknown || err instanceof RenderError) return UNKNOWN;
      throw err;
    }
  };
  switch (t.kind) {
    case 'list':
      return t.items.map((i) => renderKnown(i, scope));
    case 'map':
      return Object.fromEntries(t.entries.map(([k, v]) => [k, renderKnown(v, scope)]));
    case 'expr': {
      const v = attempt();
      return v === UNKNOWN ? `⟨${t.hole.expr.source.trim()}⟩` : v;
    }
    case 'text':
      return t.parts
        .map((p) => {
          if (typeof p === 'string') return p;
          const v = renderKnown({ kind: 'expr', hole: p }, scope);
          return typeof v === 'string' ? v : JSON.stringify(v);
        })
        .join('');
    default:
      return t.value;
  }
}

const UNKNOWN = Symbol('unknown');

/** The plan of a run of `flow` with `input`, under `snapshot`. Runs nothing. */
export function planFlow(flow: CompiledFlow, input: unknown, snapshot: Snapshot, now: number): PlannedStep[] {
  const base = newScope(input, configView(snapshot.config), snapshot.env, now);
  const known: Record<string, unknown> = {};
  const vars: Record<string, unknown> = {};
  const scope: Scope = {
    ...base,
    steps: partlyKnown(known),
    vars: partlyKnown(vars),
    query: partlyKnown({}),
  };
  const out: PlannedStep[] = [];

  const decide = (cond: CompiledStep['when'], s: Scope): 'yes' | 'no' | 'maybe' => {
    if (!cond) return 'yes';
    try {
      return test(cond, s) ? 'yes' : 'no';
    } catch (err) {
      if (err instanceof Unknown || err instanceof RenderError) return 'maybe';
      throw err;
    }
  };

  const walk = (steps: readonly CompiledStep[], depth: number, parent: 'yes' | 'maybe'): void => {
    for (const step of steps) {
      const own = decide(step.when, scope);
      const runs = own === 'no' ? 'no' : parent === 'maybe' || own === 'maybe' ? 'maybe' : 'yes';
      const values = Object.fromEntries(
        Object.entries(step.values).map(([k, t]) => [k, renderKnown(t, scope)]),
      );
      out.push({
        name: step.name,
        type: step.type,
        depth,
        runs,
        ...(own === 'no' ? { because: `if: ${step.spec.if} is false` } : {}),
        ...(own === 'maybe' ? { because: `if: ${step.spec.if} is decided at run time` } : {}),
        values,
      });
      if (runs === 'no') continue;
      const lane = runs;
      // A set step's values are the variables from here on (unknown ones stay unknown).
      if (step.type === 'set' && runs === 'yes') {
        for (const [k, v] of Object.entries((values.vars ?? {}) as Record<string, unknown>)) {
          if (typeof v !== 'string' || !v.includes('⟨')) vars[k] = v;
        }
      }
      switch (step.type) {
        case 'conditional': {
          const c = decide(step.condition, scope);
          if (c !== 'no') walk(step.ifTrue ?? [], depth + 1, c === 'yes' ? lane : 'maybe');
          if (c !== 'yes') walk(step.ifFalse ?? [], depth + 1, c === 'no' ? lane : 'maybe');
          break;
        }
        case 'switch':
          for (const list of step.cases?.values() ?? []) walk(list, depth + 1, 'maybe');
          walk(step.otherwise ?? [], depth + 1, 'maybe');
          break;
        case 'loop':
        case 'foreach':
          walk([...(step.actions ?? []), ...(step.steps ?? [])], depth + 1, 'maybe');
          break;
        case 'parallel':
          for (const b of step.branches ?? []) walk(b, depth + 1, lane);
          break;
        default:
          break;
      }
    }
  };
  walk(flow.steps, 0, 'yes');
  if (flow.final.length) walk(flow.final, 0, 'yes');
  return out;
}
