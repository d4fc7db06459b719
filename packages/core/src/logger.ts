import { pino, type Logger as PinoLogger } from 'pino';

/** Baton logs through pino: JSON lines, one object per event. */
export type Logger = PinoLogger;

/** The default logger: level from BATON_LOG_LEVEL (default `info`), written to stderr so stdout stays for output. */
export function createLogger(level = process.env.BATON_LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, base: undefined }, pino.destination(2));
}
