// JSON Schema of the configuration kinds, for editors (yaml-language-server's `$schema=` line).
import { z } from 'zod';
import { KIND_NAMES, KIND_SCHEMAS, type KindName } from './kinds/index.js';

type JsonObject = Record<string, unknown>;

/**
 * The JSON Schema of one kind's file (base/<kind>.yaml, or any file with `kind: <kind>`), or, with
 * no kind, of an environment or local overlay file, whose top-level keys are kinds.
 */
export function configJsonSchema(kind?: KindName): JsonObject {
  if (kind) {
    const schema = kindSchema(kind);
    const props = (schema.properties ?? {}) as JsonObject;
    props.kind = { const: kind, description: 'The kind of this file, when its name does not say it.' };
    return {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      title: `Baton ${kind}`,
      ...schema,
      properties: props,
    };
  }
  const properties: JsonObject = {};
  for (const k of KIND_NAMES) properties[k] = kindSchema(k);
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'Baton configuration overlay (environments/<env>.yaml, local/*.yaml)',
    type: 'object',
    properties,
    additionalProperties: false,
  };
}

function kindSchema(kind: KindName): JsonObject {
  const out = z.toJSONSchema(KIND_SCHEMAS[kind], { unrepresentable: 'any' }) as JsonObject;
  delete out.$schema;
  return out;
}
