// The stores the server's tests run on: embedded PGlite always, the PostgreSQL server when
// BATON_PG_URL is set (a fresh database each).
import { Store } from '@baton/core';
import { freshDatabase, quietLogger } from '../../core/test/backends.js';

export const BACKENDS = [
  { name: 'pglite', open: () => Store.open({ dataDir: 'memory://', logger: quietLogger() }) },
  ...(process.env.BATON_PG_URL
    ? [
        {
          name: 'postgres',
          open: async () => Store.open({ databaseUrl: await freshDatabase(), logger: quietLogger() }),
        },
      ]
    : []),
];
