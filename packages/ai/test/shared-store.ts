// One in-memory store for a test file (engine and AI tables), its AI tables emptied after each test.
import { Store } from '@baton/core';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { quietLogger } from '../../core/test/backends.js';
import { migrateAi } from '../src/index.js';

/** Registers the file's hooks; read `.store` in tests. */
export function sharedStore(): { readonly store: Store } {
  const ref = {} as { store: Store };
  beforeAll(async () => {
    ref.store = await Store.open({ dataDir: 'memory://', logger: quietLogger() });
    await ref.store.migrate();
    await migrateAi(ref.store.driver);
  });
  afterAll(() => ref.store.close());
  afterEach(() =>
    ref.store.driver.query('TRUNCATE baton.ai_calls, baton.ai_breakers, baton.ai_budget_alerts'),
  );
  return ref;
}
