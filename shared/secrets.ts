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
    const value = await getSecret<Record<string, unknown>>(arn, {
      maxAge: source.SECRET_MAX_AGE_SECONDS,
      transform: 'json',
    });
    if (!value || typeof value !== 'object') throw new ConfigError('secret is empty or not a JSON object');
    return parseSecrets(value);
  };
}
