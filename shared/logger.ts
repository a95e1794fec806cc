import { LogFormatter, Logger, LogItem } from '@aws-lambda-powertools/logger';

type FormatArgs = Parameters<LogFormatter['formatAttributes']>;

/**
 * Each line carries `level`, `message`, `timestamp` and the call's fields, nothing more: CloudWatch
 * bills every byte, and the log group already names the function. Powertools' `service` and
 * `sampling_rate` are left out; `xray_trace_id` only when the request is traced (sampled), the one
 * case where it leads anywhere.
 */
export class LeanLogFormatter extends LogFormatter {
  formatAttributes(attributes: FormatArgs[0], additional: FormatArgs[1]): LogItem {
    const traced = /Sampled=1/.test(process.env._X_AMZN_TRACE_ID ?? '');
    return new LogItem({
      attributes: {
        level: attributes.logLevel,
        message: attributes.message,
        timestamp: this.formatTimestamp(attributes.timestamp),
        ...(traced && attributes.xRayTraceId ? { xray_trace_id: attributes.xRayTraceId } : {}),
      },
    }).addAttributes(additional);
  }
}

/**
 * One structured JSON logger per process (Powertools). Level from POWERTOOLS_LOG_LEVEL or LOG_LEVEL.
 * Log data in fields, never whole payloads at info level, never secrets.
 */
export const logger = new Logger({
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'order-webhooks',
  logFormatter: new LeanLogFormatter(),
});

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
