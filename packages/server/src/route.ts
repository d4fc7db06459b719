// One place that declares a route: its least role (checked by middleware, and published in the
// OpenAPI document as `x-baton-role` so that clients and the role tests can read it) and the error
// replies every route can give.
import { createRoute, type RouteConfig, type z } from '@hono/zod-openapi';
import { requireRole } from './auth.js';
import { ErrorSchema } from './schemas.js';
import type { Role } from './roles.js';

/** A JSON reply of `schema`. */
export const jsonReply = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});

/** A required JSON request body of `schema`. */
export const jsonBody = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { 'application/json': { schema } },
});

const errorReply = (description: string) => jsonReply(ErrorSchema, description);

const ERRORS = {
  400: errorReply('The request is not valid (E_INPUT_INVALID, E_INVALID_OPTION)'),
  401: errorReply('No valid API key (E_UNAUTHENTICATED)'),
  403: errorReply("The key's role does not allow this call (E_FORBIDDEN)"),
  404: errorReply('Not found (E_NOT_FOUND, E_UNKNOWN_JOB, E_UNKNOWN_WORKFLOW)'),
  409: errorReply('Not possible in the current state (E_INVALID_STATE)'),
} as const;

/** A route under /api that needs at least `role`. */
export function apiRoute<const R extends Omit<RouteConfig, 'middleware'>>(role: Role, config: R) {
  return createRoute({
    ...config,
    middleware: [requireRole(role)] as const,
    'x-baton-role': role,
    responses: { ...ERRORS, ...config.responses },
  });
}
