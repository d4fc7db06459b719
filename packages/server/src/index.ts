export { createApp, type AppOptions } from './app.js';
export { startServer, isLoopback, type ServeOptions, type RunningServer } from './serve.js';
export { DEFAULT_PORT, DEFAULT_RATE_LIMIT } from './defaults.js';
export { TokenBuckets, type RateLimit } from './rate-limit.js';
export { ApiKeys, migrateServer, type ApiKeyInfo, type Caller } from './keys.js';
export { ROLES, allows, isRole, type Role } from './roles.js';
export type { AuthMode } from './auth.js';
export { JwtVerifier, type JwtOptions } from './jwt.js';
export {
  EventHub,
  type ChangeSource,
  type EventFilter,
  type EventHubOptions,
  type Change,
  type ChangeEvent,
  type FeedEvent,
  type Subscriber,
} from './event-hub.js';
