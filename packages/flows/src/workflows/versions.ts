// A run of a YAML workflow is bound to what it started with: the workflow's definition, the
// configuration kinds its templates read and the allowed environment variables, stored once by
// content hash. A hot reload starts new runs on the new definition; runs already going finish on
// theirs, because every replay reads the same stored version.
import { digestOf, migrateComponent, sortedJson, BatonError, type Driver, type Migration } from '@baton/core';
import type { WorkflowSpec } from './compile.js';
import type { Snapshot } from './scope.js';

const V1 = `
CREATE TABLE baton.flow_versions (
  -- sha256 of the canonical JSON of {name, definition, config, env}
  digest text PRIMARY KEY,
  name text NOT NULL,
  -- sha256 of the definition alone: what 'baton flows runs' shows as the version
  version text NOT NULL,
  definition jsonb NOT NULL,
  config jsonb NOT NULL,
  env jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
`;

const V2 = `
CREATE TABLE baton.flow_notifications (
  id bigserial PRIMARY KEY,
  run_id text NOT NULL,
  workflow text NOT NULL,
  step text NOT NULL,
  channel text NOT NULL,
  message text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX flow_notifications_run ON baton.flow_notifications (run_id);
`;

/** The YAML workflows' migrations, numbered from 1 within the `flows` component. */
export const FLOWS_MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'flow_versions', sql: V1 },
  { version: 2, name: 'flow_notifications', sql: V2 },
];

/** Creates or upgrades the YAML workflows' table. */
export function migrateFlows(driver: Driver): Promise<number[]> {
  return migrateComponent(driver, 'flows', FLOWS_MIGRATIONS);
}

/** What a run of a YAML workflow is started with, as the engine records it. */
export interface FlowStartInput {
  /** The input the caller gave, checked against the workflow's `input:` spec. */
  readonly input: unknown;
  /** The definition's hash (`sha256:…`). */
  readonly version: string;
  /** The stored version row: definition, configuration and environment snapshot. */
  readonly snapshot: string;
}

/** A stored version: the definition and the snapshot a run reads on every replay. */
export interface FlowVersion extends Snapshot {
  readonly digest: string;
  readonly name: string;
  readonly version: string;
  readonly definition: WorkflowSpec;
}

const hash = (v: unknown): string => digestOf(Buffer.from(sortedJson(v) ?? 'null', 'utf8'));

/** The content hash of a workflow's definition: its version. */
export function definitionVersion(definition: WorkflowSpec): string {
  return hash(definition);
}

/** Stored versions, by digest. Immutable rows, so reading them is safe in a replay. */
export class FlowVersions {
  private readonly cache = new Map<string, FlowVersion>();

  constructor(private readonly driver: Driver) {}

  /** Stores a version (once per content) and returns it. */
  async put(name: string, definition: WorkflowSpec, snapshot: Snapshot): Promise<FlowVersion> {
    const version = definitionVersion(definition);
    const digest = hash({ name, definition, config: snapshot.config, env: snapshot.env });
    const cached = this.cache.get(digest);
    if (cached) return cached;
    await this.driver.query(
      `INSERT INTO baton.flow_versions (digest, name, version, definition, config, env)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (digest) DO NOTHING`,
      [
        digest,
        name,
        version,
        JSON.stringify(definition),
        JSON.stringify(snapshot.config),
        JSON.stringify(snapshot.env),
      ],
    );
    const row: FlowVersion = {
      digest,
      name,
      version,
      definition,
      config: snapshot.config,
      env: snapshot.env,
    };
    this.cache.set(digest, row);
    return row;
  }

  /** The version a run started with. */
  async get(digest: string): Promise<FlowVersion> {
    const cached = this.cache.get(digest);
    if (cached) return cached;
    const rows = await this.driver.query<{
      name: string;
      version: string;
      definition: WorkflowSpec;
      config: Record<string, unknown>;
      env: Record<string, string>;
    }>('SELECT name, version, definition, config, env FROM baton.flow_versions WHERE digest = $1', [digest]);
    const r = rows[0];
    if (!r) {
      throw new BatonError(
        'E_NOT_FOUND',
        `no stored version ${digest} of a YAML workflow: was the flow_versions table emptied?`,
      );
    }
    const row: FlowVersion = { digest, ...r };
    this.cache.set(digest, row);
    return row;
  }
}
