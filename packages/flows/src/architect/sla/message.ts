// Escalation messages: `{name}` placeholders filled from a task's SLA figures.

/** The values a message template can name. */
export interface SlaMessageValues {
  readonly task_id: string;
  readonly elapsed_minutes: number;
  readonly target_minutes: number;
  readonly percent_used: number;
}

/**
 * A number as a message shows it: rounded DOWN to one decimal, without a trailing `.0`. Rounding down
 * never claims a threshold the task has not reached (79.96 % shows as 79.9 %, not 80 %). The epsilon
 * keeps a product like 4.3 × 10 = 42.99999… from losing a tenth.
 */
export function formatSlaNumber(x: number): string {
  return String(Math.floor(x * 10 + 1e-9) / 10);
}

/**
 * Fills `{task_id}`, `{elapsed_minutes}`, `{target_minutes}` and `{percent_used}` in `template`.
 * Any other `{name}` is left as written, so a typo shows in the message instead of vanishing.
 */
export function fillSlaMessage(template: string, values: SlaMessageValues): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => {
    switch (name) {
      case 'task_id':
        return values.task_id;
      case 'elapsed_minutes':
      case 'target_minutes':
      case 'percent_used':
        return formatSlaNumber(values[name]);
      default:
        return whole;
    }
  });
}
