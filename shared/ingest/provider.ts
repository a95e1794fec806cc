import type { Secrets } from '../config';
import type { Provider, VerificationScheme } from '../queue/message';

/** Request header names are lower-cased once by the adapter, so lookups are case-insensitive. */
export type Headers = Readonly<Record<string, string>>;

/** Non-secret settings the ingest core needs (from the validated environment). */
export interface IngestSettings {
  /** SQS's size limit: body plus attributes. */
  readonly maxMessageBytes: number;
  readonly rechargeTimestampToleranceSeconds: number;
  /** Refuse ReCharge requests signed only with the legacy (timestamp-less) header. */
  readonly rechargeRequireTimestamp?: boolean;
  /** Whole budget for one SendMessage, retries included. */
  readonly queueSendTimeoutMs: number;
  /** Budget for reading credentials (a Secrets Manager call on a cold cache). */
  readonly secretsTimeoutMs: number;
  /** Largest body accepted when a claim store is configured (default API Gateway's 10 MB). */
  readonly maxBodyBytes?: number;
  /** Budget of the claim-check write for bodies beyond the SQS limit. */
  readonly claimPutTimeoutMs?: number;
}

/** What a provider's authenticity check gets to look at. */
export interface AuthInput {
  /** Path segments after `/webhooks/<provider>`, URL-decoded. */
  readonly segments: readonly string[];
  readonly headers: Headers;
  /** The raw body bytes, exactly as the provider signed them. */
  readonly body: Buffer;
  /** The same body as text (already checked to be valid UTF-8). */
  readonly text: string;
  readonly secrets: Secrets;
  readonly nowMs: number;
  readonly settings: IngestSettings;
}

export type AuthResult =
  | { readonly ok: true; readonly verification: VerificationScheme }
  /**
   * `notConfigured`: the provider has no credentials in this deployment; answered 503 so the
   * provider keeps retrying while an operator fixes the secret, and never accepted unauthenticated.
   */
  | { readonly ok: false; readonly reason: string; readonly notConfigured?: boolean };

export interface EnvelopeIssue {
  readonly path: string;
  readonly message: string;
}

/** What the ingest does with an authentic request. */
export type Classification =
  | { readonly kind: 'queue'; readonly topic: string; readonly deliveryKey: string }
  | { readonly kind: 'ignore'; readonly topic: string }
  | { readonly kind: 'invalid'; readonly error: string; readonly issues?: readonly EnvelopeIssue[] };

export interface ClassifyInput {
  readonly segments: readonly string[];
  readonly headers: Headers;
  readonly body: Buffer;
  readonly text: string;
}

/**
 * Everything the ingest needs to know about one provider. Each provider folder exports one of
 * these from `ingest.ts`; shared/providers/ingest-registry.ts lists them.
 */
export interface IngestProvider {
  readonly provider: Provider;
  /** True when the path segments after `/webhooks/<provider>` name a route of this provider. */
  acceptsRoute(segments: readonly string[]): boolean;
  /** Checks authenticity; never throws for caller input. */
  authenticate(input: AuthInput): AuthResult;
  /** Parses the minimal envelope and decides: queue (with topic and delivery key), ignore, or reject. */
  classify(input: ClassifyInput): Classification;
}
