// The `input:` spec of a YAML workflow, checked when a run starts: each field is a type name
// (`string`, `number`, `integer`, `boolean`, `list`, `object`, `any`) or `{ type, required?, default?,
// enum? }`. Fields are required unless `required: false` or a default is given; unknown fields are
// refused, with the nearest field named.
import { BatonError, nearest } from '@baton/core';

const TYPES = ['string', 'number', 'integer', 'boolean', 'list', 'object', 'any'] as const;
type FieldType = (typeof TYPES)[number];

interface Field {
  readonly type: FieldType;
  readonly required: boolean;
  readonly default?: unknown;
  readonly enum?: readonly unknown[];
}

function fieldOf(name: string, raw: unknown): Field | string {
  if (typeof raw === 'string') {
    return (TYPES as readonly string[]).includes(raw)
      ? { type: raw as FieldType, required: true }
      : `input field '${name}': unknown type '${raw}' (use ${TYPES.join(', ')})`;
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return `input field '${name}': give a type name or { type, required, default, enum }`;
  }
  const r = raw as Record<string, unknown>;
  for (const k of Object.keys(r)) {
    if (!['type', 'required', 'default', 'enum', 'description'].includes(k)) {
      return `input field '${name}': unknown key '${k}' (use type, required, default, enum, description)`;
    }
  }
  if (typeof r.type !== 'string' || !(TYPES as readonly string[]).includes(r.type)) {
    return `input field '${name}': 'type' must be one of ${TYPES.join(', ')}`;
  }
  if (r.required !== undefined && typeof r.required !== 'boolean')
    return `input field '${name}': 'required' is true or false`;
  if (r.enum !== undefined && !Array.isArray(r.enum))
    return `input field '${name}': 'enum' is a list of allowed values`;
  return {
    type: r.type as FieldType,
    required: r.required ?? r.default === undefined,
    ...(r.default === undefined ? {} : { default: r.default }),
    ...(r.enum === undefined ? {} : { enum: r.enum as unknown[] }),
  };
}

/** Problems of an `input:` spec itself, for `config validate` (`[field, message]`). */
export function inputSpecProblems(spec: Readonly<Record<string, unknown>>): [string, string][] {
  return Object.entries(spec).flatMap(([name, raw]) => {
    const f = fieldOf(name, raw);
    return typeof f === 'string' ? [[name, f] as [string, string]] : [];
  });
}

/** The fields a run must be given: required, with no default. */
export function inputSpecRequired(spec: Readonly<Record<string, unknown>>): string[] {
  return Object.entries(spec).flatMap(([name, raw]) => {
    const f = fieldOf(name, raw);
    return typeof f !== 'string' && f.required && f.default === undefined ? [name] : [];
  });
}

function typeOk(type: FieldType, v: unknown): boolean {
  switch (type) {
    case 'string':
      return typeof v === 'string';
    case 'number':
      return typeof v === 'number' && Number.isFinite(v);
    case 'integer':
      return Number.isInteger(v);
    case 'boolean':
      return typeof v === 'boolean';
    case 'list':
      return Array.isArray(v);
    case 'object':
      return typeof v === 'object' && v !== null && !Array.isArray(v);
    case 'any':
      return true;
  }
}

/**
 * Checks `input` against the spec and fills in defaults (in place on a copy, returned). `declared`
 * says where the spec (or one of its fields) is written, as `file:line:col`, for the error.
 * @throws BatonError `E_INPUT_INVALID` naming the workflow, the field, what was wrong and where the
 * spec says so.
 */
export function checkInput(
  workflow: string,
  spec: Readonly<Record<string, unknown>> | undefined,
  input: unknown,
  declared: (field?: string) => string | undefined = () => undefined,
): unknown {
  if (spec === undefined) return input ?? {};
  const fail = (msg: string, field?: string): never => {
    const at = (field === undefined ? undefined : declared(field)) ?? declared();
    throw new BatonError(
      'E_INPUT_INVALID',
      `input of workflow '${workflow}': ${msg}${at ? ` (the input spec at ${at})` : ''}`,
      at ? { details: { declared: at } } : {},
    );
  };
  if (input !== undefined && (typeof input !== 'object' || input === null || Array.isArray(input))) {
    fail('give an object of fields');
  }
  const given = { ...((input ?? {}) as Record<string, unknown>) };
  for (const key of Object.keys(given)) {
    if (!Object.hasOwn(spec, key)) {
      const hint = nearest(key, Object.keys(spec));
      fail(
        `unknown field '${key}'${hint ? ` (did you mean '${hint}'?)` : ''}; fields: ${Object.keys(spec).join(', ')}`,
      );
    }
  }
  for (const [name, raw] of Object.entries(spec)) {
    const f = fieldOf(name, raw);
    if (typeof f === 'string') fail(f, name);
    const field = f as Field;
    if (given[name] === undefined) {
      if (field.default !== undefined) given[name] = field.default;
      else if (field.required) fail(`field '${name}' (${field.type}) is required`, name);
      continue;
    }
    const v = given[name];
    if (!typeOk(field.type, v))
      fail(
        `field '${name}' must be ${field.type === 'integer' ? 'an' : 'a'} ${field.type}, got ${JSON.stringify(v)}`,
        name,
      );
    if (field.enum && !field.enum.some((e) => JSON.stringify(e) === JSON.stringify(v))) {
      fail(
        `field '${name}' must be one of ${field.enum.map((e) => JSON.stringify(e)).join(', ')}, got ${JSON.stringify(v)}`,
        name,
      );
    }
  }
  return given;
}
