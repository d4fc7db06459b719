// The text of `baton tasks explain`: a routing decision and its reasons, for people.
import type { CandidateExplanation, RoutingDecision } from './decision.js';

/**
 * A routing decision as lines of text: the outcome, the rule, the strategy, the fallbacks, then every
 * candidate (the chosen one first, then the other eligible ones, then those that were not eligible,
 * each group in the order the sessions were given) with its reasons, and the summary last.
 */
export function formatExplanation(decision: RoutingDecision): string {
  const e = decision.explanation;
  const lines = [outcome(decision), `rule: ${e.rule}`, `strategy: ${e.strategy}`];
  if (e.fallbacks.length) lines.push('fallbacks:', ...e.fallbacks.map((f) => `  - ${f}`));
  if (e.candidates.length) {
    const rank = (c: CandidateExplanation) => (c.chosen ? 0 : c.eligible ? 1 : 2);
    const ordered = [0, 1, 2].flatMap((r) => e.candidates.filter((c) => rank(c) === r));
    lines.push('candidates:', ...ordered.map(candidateLine));
  }
  lines.push(`summary: ${e.summary}`);
  return lines.join('\n');
}

function outcome(decision: RoutingDecision): string {
  switch (decision.kind) {
    case 'assign':
      return `assign → ${decision.session} (${decision.provider})`;
    case 'queue': {
      const details = [
        decision.reason,
        decision.retry_after_seconds !== undefined && `retry after ${decision.retry_after_seconds} s`,
        decision.notify && 'notify',
      ].filter(Boolean);
      return `queue (${details.join('; ')})`;
    }
    case 'reject':
      return `reject ${decision.code}: ${decision.message}`;
  }
}

function candidateLine(c: CandidateExplanation): string {
  const mark = c.chosen ? '* chosen' : c.eligible ? '  eligible' : '  not eligible';
  const score = c.score === undefined ? '' : `, score ${Number(c.score.toPrecision(4))}`;
  return `${mark}  ${c.session} (${c.provider}, ${c.status}${score}): ${c.reasons.join('; ')}`;
}
