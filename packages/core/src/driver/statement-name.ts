import { createHash } from 'node:crypto';

/**
 * A prepared statement's name for SQL built from parts (a list's filters): one per distinct text,
 * so that a connection never sees two texts under one name.
 */
export function statementName(prefix: string, sql: string): string {
  return `${prefix}_${createHash('sha1').update(sql).digest('hex').slice(0, 16)}`;
}
