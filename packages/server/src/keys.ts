// API keys: `baton keys create --role …` shows a key once; the database keeps only its SHA-256.
// A key is `bk_<id>_<secret>`: the id finds the row, the secret (32 random bytes) is compared by
// hash in constant time. The secret is random, so a plain hash is enough: there is nothing to guess.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { BatonError, migrateComponent, textProblem, type Driver } from '@baton/core';
import { isRole, ROLES, type Role } from './roles.js';

const MIGRATIONS = [
  {
    version: 1,
    name: 'api_keys',
    sql: `
CREATE TABLE baton.api_keys (
  id text PRIMARY KEY,
  name text NOT NULL,
  role text NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
  secret_sha256 bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  revoked_at timestamptz
);`,
  },
];

/** Creates the server's tables (the `server` component's migrations). */
export function migrateServer(driver: Driver): Promise<number[]> {
  return migrateComponent(driver, 'server', MIGRATIONS);
}

/** A key as listed: never its secret. */
export interface ApiKeyInfo {
  id: string;
  name: string;
  role: Role;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

/** Who a request is: the key or token that authenticated it (neither when the server runs without auth). */
export interface Caller {
  role: Role;
  keyId?: string;
  /** A JWT's `sub`. */
  subject?: string;
}

/** Who made a call, as records name them: `key:<id>`, `sub:<JWT subject>`, or `local` (no credentials needed). */
export const callerName = (c: Caller): string =>
  c.keyId ? `key:${c.keyId}` : c.subject ? `sub:${c.subject}` : 'local';

const KEY = /^bk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;
const KEY_ID = /^[0-9a-f]{16}$/;
const NAME_MAX = 200;

const sha256 = (text: string) => createHash('sha256').update(text).digest();

interface KeyRow {
  id: string;
  name: string;
  role: string;
  created_at: Date | string;
  last_used_at: Date | string | null;
  revoked_at: Date | string | null;
}

const toInfo = (r: KeyRow): ApiKeyInfo => ({
  id: r.id,
  name: r.name,
  role: r.role as Role,
  createdAt: new Date(r.created_at),
  lastUsedAt: r.last_used_at === null ? null : new Date(r.last_used_at),
  revokedAt: r.revoked_at === null ? null : new Date(r.revoked_at),
});

/** How long a checked key is trusted without reading it again. */
const CHECK_TTL_MS = 2000;

export class ApiKeys {
  /** Keys checked lately, by their text (see authenticate). */
  private readonly checked = new Map<string, { caller: Caller; at: number }>();
  /** A key exists (it stays true: keys are revoked, never deleted). */
  private anyKey = false;
  /** When `required` last looked for keys. */
  private lastLook: number | undefined;

  constructor(private readonly db: Driver) {}

  /** Creates a key; its text is returned here and never again. */
  async create(role: string, name = ''): Promise<{ key: string; info: ApiKeyInfo }> {
    if (!isRole(role))
      throw new BatonError('E_INVALID_OPTION', `'${role}' is not a role; use one of ${ROLES.join(', ')}`);
    if (typeof name !== 'string' || name.length > NAME_MAX)
      throw new BatonError('E_INVALID_OPTION', `a key's name is text of at most ${NAME_MAX} characters`);
    const problem = textProblem(name);
    if (problem) throw new BatonError('E_INVALID_OPTION', `a key's name ${problem}`);
    const id = randomBytes(8).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    const [row] = await this.db.query<KeyRow>(
      `INSERT INTO baton.api_keys (id, name, role, secret_sha256) VALUES ($1, $2, $3, $4)
       RETURNING id, name, role, created_at, last_used_at, revoked_at`,
      [id, name, role, sha256(secret)],
    );
    this.anyKey = true;
    return { key: `bk_${id}_${secret}`, info: toInfo(row!) };
  }

  async list(): Promise<ApiKeyInfo[]> {
    const rows = await this.db.query<KeyRow>(
      'SELECT id, name, role, created_at, last_used_at, revoked_at FROM baton.api_keys ORDER BY created_at, id',
    );
    return rows.map(toInfo);
  }

  /** Revokes a key at once: the next request with it gets 401. */
  async revoke(id: string): Promise<ApiKeyInfo> {
    if (!KEY_ID.test(id))
      throw new BatonError(
        'E_INVALID_OPTION',
        `${JSON.stringify(id)} is not an API key id: ids are 16 hex digits (\`baton keys list\` shows them)`,
      );
    const [row] = await this.db.query<KeyRow>(
      `UPDATE baton.api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1
       RETURNING id, name, role, created_at, last_used_at, revoked_at`,
      [id],
    );
    if (!row) throw new BatonError('E_NOT_FOUND', `no API key has the id '${id}' (\`baton keys list\`)`);
    for (const [text, c] of this.checked) if (c.caller.keyId === id) this.checked.delete(text);
    return toInfo(row);
  }

  /** True when at least one key is not revoked. */
  async anyActive(): Promise<boolean> {
    const rows = await this.db.query('SELECT 1 FROM baton.api_keys WHERE revoked_at IS NULL LIMIT 1');
    return rows.length > 0;
  }

  /**
   * True once any key was ever created: a server in `auto` mode then requires one. Revoking every
   * key does not open it again; a new key comes from whoever can reach the database (`baton keys
   * create`). Read again after CHECK_TTL_MS; a create in this process is seen at once.
   */
  async required(): Promise<boolean> {
    if (this.anyKey) return true;
    const now = Date.now();
    if (this.lastLook !== undefined && now - this.lastLook < CHECK_TTL_MS) return false;
    this.lastLook = now;
    this.anyKey = (await this.db.query('SELECT 1 FROM baton.api_keys LIMIT 1')).length > 0;
    return this.anyKey;
  }

  /**
   * The caller a key text stands for, or undefined for a malformed, unknown or revoked key. A key
   * checked in the last CHECK_TTL_MS is not read again (a busy client would otherwise cost a query
   * per call); a revoke in this process takes effect at once, one in another process within that
   * time. `last_used_at` is written at most once a minute per key.
   */
  async authenticate(key: string): Promise<Caller | undefined> {
    const m = KEY.exec(key);
    if (!m) return undefined;
    const now = Date.now();
    const cached = this.checked.get(key);
    if (cached && now - cached.at < CHECK_TTL_MS) return cached.caller;
    const [row] = await this.db.query<{ role: string; secret_sha256: Buffer | Uint8Array; idle: boolean }>(
      `SELECT role, secret_sha256, last_used_at IS NULL OR last_used_at < now() - interval '1 minute' AS idle
       FROM baton.api_keys WHERE id = $1 AND revoked_at IS NULL`,
      [m[1]],
    );
    this.checked.delete(key);
    if (!row) return undefined;
    const stored = Buffer.from(row.secret_sha256);
    const given = sha256(m[2]!);
    if (stored.length !== given.length || !timingSafeEqual(stored, given)) return undefined;
    if (row.idle) await this.db.query('UPDATE baton.api_keys SET last_used_at = now() WHERE id = $1', [m[1]]);
    const caller: Caller = { role: row.role as Role, keyId: m[1] };
    this.checked.set(key, { caller, at: now });
    return caller;
  }
}
