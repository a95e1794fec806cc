import { getSecret, SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type AwsCallRecord, recordAwsCalls } from './aws/call-recorder';
import { parseSecrets, type Secrets } from './config';
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
 * secret through Powertools (cached for SECRET_MAX_AGE_SECONDS, so a rotation is picked up without
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

/** Reads one JSON secret through Powertools (cached for maxAge), recording the call in tests. */
function secretJsonReader(
  arn: string,
  binding: string,
  recordFile: string | undefined,
  fn: AwsCallRecord['fn'] | undefined,
  region: string | undefined,
): (maxAge: number) => Promise<Record<string, unknown>> {
  // Recording needs a client of our own (built on first use, like Powertools' default one).
  let recorded: SecretsProvider | undefined;
  let regional: SecretsProvider | undefined;
  const fetch = (options: { maxAge: number }) => {
    if (region && !recordFile) {
      regional ??= new SecretsProvider({ awsSdkV3Client: new SecretsManagerClient({ region }) });
      return regional.get<string | Uint8Array>(arn, options);
    }
    if (!recordFile || !fn) return getSecret<string | Uint8Array>(arn, options);
    recorded ??= new SecretsProvider({
      awsSdkV3Client: recordAwsCalls(new SecretsManagerClient({}), fn, { [binding]: arn }, recordFile),
    });
    return recorded.get<string | Uint8Array>(arn, options);
  };
  return async (maxAge) => {
    // Parsed here rather than with Powertools' `transform: 'json'`: its error carries JSON.parse's
    // message, which quotes a fragment of the secret, and callers log error messages.
    const raw = await fetch({ maxAge });
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
