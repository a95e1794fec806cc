import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type AwsCallRecord, recordAwsCalls } from './aws/call-recorder';
import { parseSecrets, type Secrets } from './credentials';
import { ConfigError } from './errors';

/** Where credentials come from: a Secrets Manager ARN, or the environment. */
export interface SecretSource {
  /** This function's own secret: the webhook secret (ingest) or the API credentials (worker, reconciler). */
  SECRET_ARN?: string | undefined;
  /**
   * The one-secret layout's combined secret, read too while a deployment moves to two secrets
   * (stack setting `combinedSecret`): a key missing from SECRET_ARN is taken from it.
   */
  COMBINED_SECRET_ARN?: string | undefined;
  SECRET_MAX_AGE_SECONDS: number;
  /** Tests only: record the GetSecretValue calls (see shared/aws/call-recorder.ts). */
  AWS_CALL_RECORD_FILE?: string | undefined;
}

/**
 * Returns a function that yields the current credentials. With a SECRET_ARN it reads the JSON
 * secret with GetSecretValue (cached for SECRET_MAX_AGE_SECONDS, so a rotation is picked up without
 * a redeploy); otherwise it parses the environment once.
 */
export function makeSecretsProvider(
  source: SecretSource,
  env: NodeJS.ProcessEnv = process.env,
  fn?: AwsCallRecord['fn'],
  /** The CLI: the stack's region, for a secret named without an ARN (an ARN's own region wins). */
  region?: string,
): () => Promise<Secrets> {
  if (!source.SECRET_ARN) {
    const fromEnv = parseSecrets(env);
    return async () => fromEnv;
  }
  const arn = source.SECRET_ARN;
  const recordFile = fn ? source.AWS_CALL_RECORD_FILE : undefined;
  const readJson = secretJsonReader(arn, 'SECRET_ARN', recordFile, fn, regionToRead(arn, region));
  const combinedArn = source.COMBINED_SECRET_ARN;
  const combined = combinedArn
    ? secretJsonReader(combinedArn, 'COMBINED_SECRET_ARN', recordFile, fn, regionToRead(combinedArn, region))
    : undefined;
  return async () => {
    const maxAge = source.SECRET_MAX_AGE_SECONDS;
    const own = await readJson(maxAge);
    if (!combined) return parseSecrets(own, 'secret');
    // The own secret wins key by key; an empty own secret (`{}`, as the stack creates it) reads as the combined one.
    const merged: Record<string, unknown> = { ...(await combined(maxAge)) };
    for (const [key, value] of Object.entries(own))
      if (value !== undefined && value !== '') merged[key] = value;
    return parseSecrets(merged, 'secret');
  };
}

/**
 * Where a secret lives when it is not where the SDK would look: the region its ARN names
 * (arn:aws:secretsmanager:<region>:...), else `fallback`. A CLI run against a stack in another region
 * reads the secret there; undefined leaves the SDK's default region.
 */
function regionToRead(arn: string, fallback: string | undefined): string | undefined {
  const where = (arn.startsWith('arn:') ? arn.split(':')[3] : undefined) || fallback;
  return where && where !== process.env.AWS_REGION ? where : undefined;
}

/**
 * Reads one JSON secret (GetSecretValue), recording the call in tests. The value read is kept for
 * maxAge seconds and every call within that time answers from it (a broken secret too, so a bad
 * value costs one request per maxAge, not one per webhook); callers arriving while a read is in
 * flight share it. The client is built on the first read. A direct SDK call rather than Powertools
 * parameters: the same caching, without loading a second library at every cold start.
 */
function secretJsonReader(
  arn: string,
  binding: string,
  recordFile: string | undefined,
  fn: AwsCallRecord['fn'] | undefined,
  region: string | undefined,
): (maxAge: number) => Promise<Record<string, unknown>> {
  let client: SecretsManagerClient | undefined;
  let cached: { raw: string | Uint8Array | undefined; until: number } | undefined;
  let reading: Promise<string | Uint8Array | undefined> | undefined;
  const read = async (maxAge: number) => {
    if (cached && Date.now() < cached.until) return cached.raw;
    reading ??= (async () => {
      try {
        client ??= newClient();
        const out = await client.send(new GetSecretValueCommand({ SecretId: arn }));
        const raw = out.SecretString ?? out.SecretBinary;
        cached = { raw, until: Date.now() + maxAge * 1000 };
        return raw;
      } finally {
        reading = undefined;
      }
    })();
    return reading;
  };
  const newClient = () => {
    const created = new SecretsManagerClient(region ? { region } : {});
    return recordFile && fn ? recordAwsCalls(created, fn, { [binding]: arn }, recordFile) : created;
  };
  return async (maxAge) => {
    // Parsed here, and JSON.parse's message dropped: it quotes a fragment of the secret, and callers
    // log error messages.
    const raw = await read(maxAge);
    let value: unknown;
    try {
      const text = raw instanceof Uint8Array ? Buffer.from(raw).toString('utf8') : raw;
      value = typeof text === 'string' ? JSON.parse(text) : undefined;
    } catch {
      value = undefined;
    }
    if (!value || typeof value !== 'object' || Array.isArray(value))
      throw new ConfigError('secret is empty or not a JSON object');
    return value as Record<string, unknown>;
  };
}
