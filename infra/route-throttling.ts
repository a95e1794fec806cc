/**
 * Per-route throttling of the webhook API. Each route gets its own token bucket, so a flood on one
 * provider's route (a leaked Wix hook URL, say) is refused there and cannot use up the others'
 * share. A plain list of route -> limits, so a REST API (method settings, below) and an HTTP API
 * (route settings) can both apply it.
 */
export const WEBHOOK_ROUTES = [
  '/webhooks/recharge',
  '/webhooks/recharge/{resource}/{event}',
  '/webhooks/wix-cashier-pay/{token}',
  '/webhooks/sevi',
] as const;
export type WebhookRoute = (typeof WEBHOOK_ROUTES)[number];

export interface RouteLimit {
  rateLimit: number;
  burstLimit: number;
}

/** The limits of each webhook route (POST): every route its own bucket of the configured size. */
export function routeThrottles(settings: {
  throttlingRateLimit: number;
  throttlingBurstLimit: number;
}): Record<WebhookRoute, RouteLimit> {
  const limit = { rateLimit: settings.throttlingRateLimit, burstLimit: settings.throttlingBurstLimit };
  return Object.fromEntries(WEBHOOK_ROUTES.map((route) => [route, { ...limit }])) as Record<
    WebhookRoute,
    RouteLimit
  >;
}

/** The same limits as a REST API stage's `methodOptions` (`<route>/POST`). */
export function restMethodThrottling(
  throttles: Record<WebhookRoute, RouteLimit>,
): Record<string, { throttlingRateLimit: number; throttlingBurstLimit: number }> {
  return Object.fromEntries(
    Object.entries(throttles).map(([route, limit]) => [
      `${route}/POST`,
      { throttlingRateLimit: limit.rateLimit, throttlingBurstLimit: limit.burstLimit },
    ]),
  );
}
