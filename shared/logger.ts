import { Logger } from '@aws-lambda-powertools/logger';

/**
 * One structured JSON logger per process (Powertools). Level from POWERTOOLS_LOG_LEVEL or LOG_LEVEL.
 * Log data in fields, never whole payloads at info level, never secrets.
 */
export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'order-webhooks' });

/** The narrow slice of a logger that shared code needs; tests pass a recorder. */
export interface Log {
  debug(message: string, extra?: Record<string, unknown>): void;
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

/** The process logger as a `Log` (what the functions pass to shared code outside tests). */
export const processLog: Log = {
  debug: (message, extra) => logger.debug(message, extra ?? {}),
  info: (message, extra) => logger.info(message, extra ?? {}),
  warn: (message, extra) => logger.warn(message, extra ?? {}),
  error: (message, extra) => logger.error(message, extra ?? {}),
};
