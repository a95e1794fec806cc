import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { parseSecrets, type Secrets } from './config';
import { ConfigError } from './errors';

/** Where credentials come from: a Secrets Manager ARN, or the environment. */
export interface SecretSource {
  SECRET_ARN?: string | undefined;
  SECRET_MAX_AGE_SECONDS: number;
}

/**
 * Returns a function that yields the current credentials. With a SECRET_ARN it reads the JSON
 * secret through Powertools (cached for SECRET_MAX_AGE_SECONDS, so a rotation is picked up without
 * a redeploy); otherwise it parses the environment once.
 */
export function makeSecretsProvider(
  source: SecretSource,
  env: NodeJS.ProcessEnv = process.env,
): () => Promise<Secrets> {
  if (!source.SECRET_ARN) {
    const fromEnv = parseSecrets(env);
    return async () => fromEnv;
  }
  const arn = source.SECRET_ARN;
  return async () => {
    // Parsed here rather than with Powertools' `transform: 'json'`: its error carries JSON.parse's
    // message, which quotes a fragment of the secret, and callers log error messages.
    const raw = await getSecret<string | Uint8Array>(arn, { maxAge: source.SECRET_MAX_AGE_SECONDS });
    let value: unknown;
    try {
      const text = raw instanceof Uint8Array ? Buffer.from(raw).toString('utf8') : raw;
      value = typeof text === 'string' ? JSON.parse(text) : undefined;
    } catch {
      value = undefined;
    }
    if (!value || typeof value !== 'object' || Array.isArray(value))
      throw new ConfigError('secret is empty or not a JSON object');
    return parseSecrets(value as Record<string, unknown>, 'secret');
  };
}
