// Checkpoints and undo: before a tool changes a file, its content as it was is kept in the store
// (content-addressed by sha256, so a file kept many times is stored once), tagged with the session
// and turn. Undo puts back the files of the last turns, newest change first, so each file ends as
// it was before the first undone change; a file that did not exist is removed. No git needed.
// Storage is bounded per project: past the quota the oldest checkpoints go first.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { BatonError, type Driver, type Queryable } from '@baton/core';

/** Default per-project bound of the contents checkpoints keep. */
export const DEFAULT_CHECKPOINT_QUOTA_BYTES = 200 * 1024 * 1024;
/** A file larger than this is not checkpointed (the edit goes on; undo cannot restore it). */
const MAX_CHECKPOINT_FILE_BYTES = 16 * 1024 * 1024;

export interface CheckpointSite {
  /** The project directory (absolute): checkpoints and their quota are per project. */
  readonly project: string;
  readonly session: string;
  readonly turn: number;
  readonly toolCallId: string;
  /** The file, relative to the project. */
  readonly path: string;
}

/** What an undo did: the turns it undid (newest first) and each file it put back, once. */
export interface Undone {
  readonly turns: number[];
  readonly files: { path: string; action: 'restored' | 'removed' }[];
}

interface Row {
  id: string;
  turn: number;
  path: string;
  blob: string | null;
  size: string | number | null;
}

export class Checkpoints {
  constructor(
    private readonly driver: Driver,
    private readonly quotaBytes = DEFAULT_CHECKPOINT_QUOTA_BYTES,
  ) {}

  /**
   * Keeps `path`'s content before a change. The first checkpoint of a call and path stands (a call
   * run again after a crash must not keep what its first run wrote). Returns false when the file is
   * over the size cap and was not kept.
   */
  async keep(site: CheckpointSite): Promise<boolean> {
    const abs = inside(site.project, site.path);
    let bytes: Buffer | null = null;
    try {
      if (statSync(abs).size > MAX_CHECKPOINT_FILE_BYTES) return false;
      bytes = readFileSync(abs);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const sha = bytes && createHash('sha256').update(bytes).digest('hex');
    await this.driver.transaction(async (tx) => {
      if (bytes && sha)
        await tx.query(
          'INSERT INTO baton.ai_checkpoint_blobs (sha256, bytes, size) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
          [sha, bytes, bytes.length],
        );
      await tx.query(
        `INSERT INTO baton.ai_checkpoints (id, project, session, turn, path, blob, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING`,
        [
          `${site.session}:${site.toolCallId}:${site.path}`,
          site.project,
          site.session,
          site.turn,
          site.path,
          sha,
          Date.now(),
        ],
      );
    });
    await this.bound(site.project);
    return true;
  }

  /**
   * Puts back the files the last `turns` turns (with checkpoints) of `session` changed, and drops
   * those checkpoints.
   */
  async undo(session: string, project: string, turns = 1): Promise<Undone> {
    if (!Number.isInteger(turns) || turns < 1)
      throw new BatonError('E_INVALID_OPTION', `undo takes a number of turns of at least 1, got ${turns}`);
    return this.driver.transaction(async (tx) => {
      const wanted = await tx.query<{ turn: number }>(
        `SELECT DISTINCT turn FROM baton.ai_checkpoints WHERE session = $1 ORDER BY turn DESC LIMIT $2`,
        [session, turns],
      );
      if (wanted.length === 0)
        throw new BatonError(
          'E_NOT_FOUND',
          `session ${session} has no changes to undo (no file was edited, or all were undone)`,
        );
      const rows = await tx.query<Row & { bytes: Uint8Array | null }>(
        `SELECT c.id, c.turn, c.path, c.blob, b.bytes FROM baton.ai_checkpoints c
         LEFT JOIN baton.ai_checkpoint_blobs b ON b.sha256 = c.blob
         WHERE c.session = $1 AND c.turn = ANY($2::int[]) ORDER BY c.seq DESC`,
        [session, wanted.map((w) => w.turn)],
      );
      // Newest change first: a file changed twice ends as it was before the first change.
      const final = new Map<string, Uint8Array | null>();
      for (const r of rows) final.set(r.path, r.blob === null ? null : r.bytes);
      const files: Undone['files'] = [];
      for (const [path, bytes] of final) {
        const abs = inside(project, path);
        if (bytes === null) rmSync(abs, { force: true });
        else {
          mkdirSync(dirname(abs), { recursive: true });
          writeFileSync(abs, bytes);
        }
        files.push({ path, action: bytes === null ? 'removed' : 'restored' });
      }
      await tx.query('DELETE FROM baton.ai_checkpoints WHERE id = ANY($1::text[])', [rows.map((r) => r.id)]);
      await dropUnreferencedBlobs(tx);
      return { turns: wanted.map((w) => w.turn), files };
    });
  }

  /** How much a project's checkpoints hold. */
  async usage(project: string): Promise<{ checkpoints: number; bytes: number }> {
    const [r] = await this.driver.query<{ n: number; bytes: string | number | null }>(
      `SELECT count(*)::int AS n,
              (SELECT coalesce(sum(size), 0) FROM baton.ai_checkpoint_blobs
                WHERE sha256 IN (SELECT blob FROM baton.ai_checkpoints WHERE project = $1)) AS bytes
       FROM baton.ai_checkpoints WHERE project = $1`,
      [project],
    );
    return { checkpoints: r!.n, bytes: Number(r!.bytes ?? 0) };
  }

  /** Drops a project's oldest checkpoints until it holds at most `maxBytes`; what went. */
  async bound(project: string, maxBytes = this.quotaBytes): Promise<{ dropped: number; freed: number }> {
    const before = await this.usage(project);
    if (before.bytes <= maxBytes) return { dropped: 0, freed: 0 };
    return this.driver.transaction(async (tx) => {
      const rows = await tx.query<Row>(
        `SELECT c.id, c.turn, c.path, c.blob, b.size FROM baton.ai_checkpoints c
         LEFT JOIN baton.ai_checkpoint_blobs b ON b.sha256 = c.blob
         WHERE c.project = $1 ORDER BY c.seq DESC`,
        [project],
      );
      // Keep the newest while their distinct contents fit.
      const kept = new Set<string>();
      let used = 0;
      const drop: string[] = [];
      for (const r of rows) {
        const size = r.blob === null || kept.has(r.blob) ? 0 : Number(r.size ?? 0);
        if (drop.length === 0 && used + size <= maxBytes) {
          used += size;
          if (r.blob) kept.add(r.blob);
        } else drop.push(r.id);
      }
      await tx.query('DELETE FROM baton.ai_checkpoints WHERE id = ANY($1::text[])', [drop]);
      await dropUnreferencedBlobs(tx);
      return { dropped: drop.length, freed: before.bytes - used };
    });
  }
}

/** Contents no checkpoint refers to any more. */
function dropUnreferencedBlobs(tx: Queryable): Promise<unknown> {
  return tx.query(
    'DELETE FROM baton.ai_checkpoint_blobs b WHERE NOT EXISTS (SELECT 1 FROM baton.ai_checkpoints c WHERE c.blob = b.sha256)',
  );
}

/** `path` under `project`, refusing anything that would leave it. */
function inside(project: string, path: string): string {
  const abs = resolve(project, path);
  const rel = relative(project, abs);
  if (isAbsolute(path) || rel.startsWith('..') || isAbsolute(rel))
    throw new BatonError('E_INVALID_OPTION', `checkpoint path '${path}' is outside the project ${project}`);
  return abs;
}
