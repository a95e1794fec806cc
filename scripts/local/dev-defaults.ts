/**
 * Development credentials the local mode uses when none are configured, so `npm start` works with
 * no setup. The CLI's `send` defaults to the same values. Printed at start: they are not secret and
 * must never be used for a deployed stack.
 */
export const DEV_SECRETS = {
  RECHARGE_WEBHOOK_SECRETS: 'dev-recharge-client-secret',
  RECHARGE_API_TOKEN: 'dev-recharge-api-token',
  WIX_CASHIER_PAY_TOKENS: 'dev-wix-hook-token',
  SEVI_WEBHOOK_TOKENS: 'dev-sevi-webhook-token',
} as const;

/** Resource names of the local mode (one queue pair, two tables, like the stack). */
export const LOCAL_NAMES = {
  queue: 'order-webhooks',
  idempotencyTable: 'order-webhooks-idempotency',
  ordersTable: 'order-webhooks-orders',
  archiveBucket: 'order-webhooks-archive',
} as const;

export const DEFAULT_PORT = 3000;
export const DEFAULT_DATA_DIR = '.local';
export const STATE_FILE_NAME = 'endpoints.json';
/**
 * An `--in-memory` run's endpoints file beside the data folder's own: it keeps nothing in the folder, so
 * it neither takes nor waits for the folder's lock (a persistent run there may go on at the same time).
 */
export const IN_MEMORY_STATE_FILE_NAME = 'endpoints.in-memory.json';
