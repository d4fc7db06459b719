// The project's "always" answers: allow rules a person added by approving a call with
// `--remember always`, kept in a JSON file beside the project's data (default
// `.baton/agent_permissions.json`) and added to the allow list of every later run. An ask or deny
// rule of the configuration still comes first: one precedence for every rule.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parsePermissionRule, type ToolCallSubject } from '@baton/core';

const GLOB = /[*?{}\s()]/;

/**
 * The rule that allows exactly this call, or null when the call cannot be written as a rule that
 * matches nothing else (an argument holding a glob character or a space).
 */
export function exactRule(call: ToolCallSubject): string | null {
  let rule: string | null;
  if (call.argv)
    rule = call.argv.some((a) => GLOB.test(a) || a === '') ? null : `${call.tool}(${call.argv.join(' ')})`;
  else if (call.path !== undefined) rule = GLOB.test(call.path) ? null : `${call.tool}(${call.path})`;
  else rule = call.text !== undefined || /[*?]/.test(call.tool) ? null : call.tool;
  if (rule === null) return null;
  // A tool name a rule cannot spell (an MCP server's) is remembered for the session only.
  try {
    parsePermissionRule(rule, 'allow');
    return rule;
  } catch {
    return null;
  }
}
export class AlwaysRules {
  constructor(readonly file: string) {}

  /** The allow rules written so far. */
  read(): string[] {
    try {
      const parsed = JSON.parse(readFileSync(this.file, 'utf8')) as { allow?: unknown };
      return Array.isArray(parsed.allow)
        ? parsed.allow.filter((r): r is string => typeof r === 'string')
        : [];
    } catch {
      return [];
    }
  }

  /** Adds a rule (once), writing the file whole through a rename so a reader never sees half of it. */
  add(rule: string): void {
    const allow = this.read();
    if (allow.includes(rule)) return;
    allow.push(rule);
    mkdirSync(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify({ allow }, null, 2)}\n`);
    renameSync(tmp, this.file);
  }
}
