// Cron schedules as one worker helps fire them: stored at start, then fired when due by whichever
// worker gets there first (each fire is enqueued once, see schedule.ts).
import { fireDueSchedules, upsertSchedules } from '../schedule.js';
import type { Driver } from '../driver/types.js';
import type { Served } from './served.js';

export class ScheduleFirer {
  constructor(
    private readonly db: Driver,
    private readonly served: Pick<Served, 'schedules'>,
  ) {}

  /** Stores the schedules (a changed cron starts over; an unchanged one keeps its next fire). */
  register(): Promise<void> {
    return upsertSchedules(this.db, this.served.schedules);
  }

  /** Enqueues the jobs of every due fire; returns how many. */
  fireDue(): Promise<number> {
    return fireDueSchedules(this.db, this.served.schedules);
  }
}
