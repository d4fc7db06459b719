// The order in which queued tasks are served: higher priority first, oldest first among equals, and
// waiting tasks age upward so that a low priority is never starved.

/** Minutes of waiting worth one priority level. */
export const AGING_MINUTES_PER_LEVEL = 10;

/** What the queue orders by: the task's effective priority (see effectivePriority) and when it was sent. */
export interface ServiceOrderFields {
  /** 0 to 10, the effective priority. */
  readonly priority: number;
  /** When the task was sent, ms since the epoch. */
  readonly created_at: number;
}

/**
 * The task's place in the queue, smaller first: `created_at − priority × 10 min`. Serving by this key
 * is serving by `priority + minutes waited / 10`, a priority that rises one level per 10 minutes of
 * waiting, with no cap; but the key does not change while the task waits, so two queued tasks never
 * swap places and a stored column with an index can serve the queue.
 */
export function serviceKey(task: ServiceOrderFields): number {
  return task.created_at - task.priority * AGING_MINUTES_PER_LEVEL * 60_000;
}

/**
 * Orders queued tasks for service (for `Array.prototype.sort`): smaller {@link serviceKey} first,
 * so higher priority first among tasks sent at the same time and oldest first among equal priorities;
 * a task that waited 10 minutes per level of difference ties with a fresh one of higher priority, and
 * the higher priority goes first on a tie.
 */
export function compareForService(a: ServiceOrderFields, b: ServiceOrderFields): number {
  return serviceKey(a) - serviceKey(b) || b.priority - a.priority;
}
