// Permission rules for tool calls (`allow` / `ask` / `deny`), as Claude Code and opencode users
// write them: `run_command(npm test *)`, `read_file(**/.env)`, `edit_file(src/**)`,
// `mcp:github:*`. One precedence: deny, then ask, then allow, the first match of each list wins,
// and anything unmatched is ask. Commands match token by token, so `ls` never covers `lsblk`
// (Aircher matched prefixes). Pure: the AI layer decides with it, the config layer validates with it.
import { BatonError } from '../errors.js';

export type PermissionDecision = 'allow' | 'ask' | 'deny';

/** The rules as configuration writes them (`agent_permissions:`). */
export interface PermissionRuleLists {
  allow?: readonly string[];
  ask?: readonly string[];
  deny?: readonly string[];
}

/**
 * What a rule is matched against. A tool gives the form that fits it: a path (relative to the
 * project root, `/`-separated) for file tools, an argv for commands, else text.
 */
export interface ToolCallSubject {
  tool: string;
  path?: string;
  argv?: readonly string[];
  text?: string;
}

export interface PermissionVerdict {
  decision: PermissionDecision;
  /** The rule that decided, as written (`deny: read_file(**\/.env)`), or null when none matched. */
  rule: string | null;
}

interface Rule {
  source: string;
  tool: RegExp | string;
  pattern: string | null;
  path?: RegExp;
  argv?: { tokens: RegExp[]; rest: boolean };
  text?: RegExp;
}

const RULE = /^([A-Za-z0-9_.:*?-]+)(?:\((.*)\))?$/s;
const escape = (c: string) => c.replace(/[.+^${}()|[\]\\]/g, '\\$&');

/** A glob as regex source: in path mode `*` and `?` stay within a directory, else they match anything. */
function globSource(glob: string, pathMode: boolean): string {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') {
      if (pathMode && glob[i + 1] === '*') {
        // `**/` is any number of directories (none included); a final `**` is anything below.
        if (glob[i + 2] === '/') {
          out += '(?:.*/)?';
          i += 2;
        } else {
          out += '.*';
          i += 1;
        }
      } else out += pathMode ? '[^/]*' : '.*';
    } else if (c === '?') out += pathMode ? '[^/]' : '.';
    else if (c === '{' && pathMode) {
      const end = glob.indexOf('}', i);
      if (end < 0) throw new Error(`'{' at ${i} has no closing '}'`);
      out += `(?:${glob
        .slice(i + 1, end)
        .split(',')
        .map((alt) => globSource(alt, true))
        .join('|')})`;
      i = end;
    } else out += escape(c);
  }
  return out;
}

/**
 * A path glob as a regular expression: `*` within one directory, `**` across directories (`**\/`
 * none included), `?` one character, `{a,b}` alternatives. Throws on an unclosed `{`.
 */
export function pathGlob(glob: string): RegExp {
  return new RegExp(`^${globSource(glob, true)}$`);
}

/** Parses one rule; throws E_CONFIG_INVALID saying what is wrong with it. */
export function parsePermissionRule(source: string, list: PermissionDecision): Rule {
  const text = source.trim();
  const m = RULE.exec(text);
  if (!m)
    throw new BatonError(
      'E_CONFIG_INVALID',
      `permission rule '${source}' in ${list} is not 'tool' or 'tool(pattern)': a tool name (letters, digits, _ . : - and * ?) and an optional pattern in parentheses`,
    );
  const [, tool, pattern] = m;
  if (pattern !== undefined && pattern.trim() === '')
    throw new BatonError(
      'E_CONFIG_INVALID',
      `permission rule '${source}' in ${list} has empty parentheses: write '${tool}' for every call of the tool, or give a pattern`,
    );
  try {
    const rule: Rule = {
      source: `${list}: ${text}`,
      tool: /[*?]/.test(tool) ? new RegExp(`^${globSource(tool, false)}$`) : tool,
      pattern: pattern?.trim() ?? null,
    };
    if (rule.pattern !== null) {
      rule.path = new RegExp(`^${globSource(rule.pattern.replace(/^\.\//, ''), true)}$`);
      const tokens = rule.pattern.split(/\s+/);
      const rest = tokens.length > 1 && tokens.at(-1) === '*';
      rule.argv = {
        tokens: (rest ? tokens.slice(0, -1) : tokens).map((t) => new RegExp(`^${globSource(t, false)}$`)),
        rest,
      };
      rule.text = new RegExp(`^${globSource(rule.pattern, false)}$`, 's');
    }
    return rule;
  } catch (err) {
    throw new BatonError(
      'E_CONFIG_INVALID',
      `permission rule '${source}' in ${list}: ${(err as Error).message}`,
    );
  }
}

function matches(rule: Rule, call: ToolCallSubject): boolean {
  if (typeof rule.tool === 'string' ? rule.tool !== call.tool : !rule.tool.test(call.tool)) return false;
  if (rule.pattern === null) return true;
  if (call.argv) {
    const { tokens, rest } = rule.argv!;
    if (rest ? call.argv.length < tokens.length : call.argv.length !== tokens.length) return false;
    return tokens.every((t, i) => t.test(call.argv![i]));
  }
  if (call.path !== undefined) return rule.path!.test(call.path.replace(/^\.\//, ''));
  if (call.text !== undefined) return rule.text!.test(call.text);
  // A pattern cannot match a call that gives nothing to match it against.
  return false;
}

/** Compiled rules; `decide` is what a tool call goes through. */
export class PermissionPolicy {
  private readonly lists: Record<PermissionDecision, Rule[]>;

  constructor(rules: PermissionRuleLists = {}) {
    const compile = (list: PermissionDecision) =>
      (rules[list] ?? []).map((r) => parsePermissionRule(r, list));
    this.lists = { deny: compile('deny'), ask: compile('ask'), allow: compile('allow') };
  }

  /** Deny, then ask, then allow; the first match decides; unmatched is ask. */
  decide(call: ToolCallSubject): PermissionVerdict {
    for (const decision of ['deny', 'ask', 'allow'] as const)
      for (const rule of this.lists[decision])
        if (matches(rule, call)) return { decision, rule: rule.source };
    return { decision: 'ask', rule: null };
  }
}

/**
 * Parses `tool(args)` as `baton policy check` takes it: for `run_command` the arguments are an
 * argv (split on spaces), for file tools a path, else text.
 */
export function parseToolCall(
  text: string,
  pathTools: ReadonlySet<string>,
  argvTools: ReadonlySet<string>,
): ToolCallSubject {
  const m = RULE.exec(text.trim());
  if (!m || /[*?]/.test(m[1]))
    throw new BatonError(
      'E_INPUT_INVALID',
      `'${text}' is not a tool call: write 'tool' or 'tool(arguments)', e.g. 'run_command(npm test)'`,
    );
  const [, tool, args] = m;
  if (args === undefined) return { tool };
  if (argvTools.has(tool)) return { tool, argv: args.trim().split(/\s+/).filter(Boolean) };
  if (pathTools.has(tool)) return { tool, path: args.trim() };
  return { tool, text: args };
}
