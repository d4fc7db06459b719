// What the event hub listens to: the engine's change feed (executions), and, when the server runs
// the Architect, its tasks, sessions and alerts (their triggers join the feed's while it is on).
import { ChangeFeed, type Driver, type Logger } from '@baton/core';
import { ARCHITECT_CHANGES_CHANNEL, ARCHITECT_FEED_TRIGGERS, parseArchitectChanges } from '@baton/flows';
import type { Change, ChangeSource } from './event-hub.js';

export function serverChanges(driver: Driver, logger: Logger, architect: boolean): ChangeSource {
  const feed = new ChangeFeed(driver, logger, architect ? { triggers: ARCHITECT_FEED_TRIGGERS } : {});
  let unlisten: (() => Promise<void>) | undefined;
  return {
    async start(onChanges: (changes: Change[]) => void, onGap: () => void) {
      // Listening before the feed registers: the Architect's triggers fire from then on.
      if (architect)
        unlisten = await driver.listen(ARCHITECT_CHANGES_CHANNEL, (payload) => {
          const changes = parseArchitectChanges(payload);
          if (changes.length) onChanges(changes);
        });
      try {
        await feed.start(
          (changes) => onChanges(changes.map((c) => ({ type: 'execution' as const, ...c }))),
          onGap,
        );
      } catch (err) {
        await unlisten?.();
        unlisten = undefined;
        throw err;
      }
    },
    async stop() {
      await unlisten?.();
      unlisten = undefined;
      await feed.stop();
    },
  };
}
