// Functions the example's YAML workflow calls by name (`type: function`). Each runs as a durable
// step: its result is recorded, and it runs at least once (ctx.idempotencyKey is stable).
import { defineFlowFunction } from '@baton/flows';

export const build = defineFlowFunction('build', (input) => {
  const { service } = input as { service: string };
  return { artifact: `${service}-1.4.2.tgz` };
});

export const deploy = defineFlowFunction('deploy', (input, ctx) => {
  const { host, artifact } = input as { host: string; artifact: string };
  return { host, artifact, key: ctx.idempotencyKey };
});

export const discard = defineFlowFunction('discard', (input) => ({
  discarded: (input as { artifact: string }).artifact,
}));
