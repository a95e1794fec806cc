import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { CliError } from './errors';

/** Where the `--aws` paths operate: who the credentials belong to and the region. */
export interface AwsIdentity {
  account: string;
  /** The caller: a user, a role session (`assumed-role/...`), or root. */
  arn: string;
  region: string;
}

/** The one line every `--aws` run prints first (stderr, so `--json` output stays clean). */
export function identityLine(identity: AwsIdentity): string {
  return `aws: account ${identity.account} (${identity.arn}), region ${identity.region}`;
}

export interface IdentityDeps {
  sts: (region: string) => Pick<STSClient, 'send' | 'destroy'>;
}

export const DEFAULT_IDENTITY_DEPS: IdentityDeps = {
  sts: (region) => new STSClient({ region, maxAttempts: 2 }),
};

/**
 * STS GetCallerIdentity in `region`: free, needs no IAM permission, and fails exactly when the
 * credentials are missing, expired, unknown to AWS, or AWS cannot be reached; those come back as a
 * CliError of one line saying what to do.
 */
export async function awsIdentity(
  region: string,
  deps: IdentityDeps = DEFAULT_IDENTITY_DEPS,
): Promise<AwsIdentity> {
  const sts = deps.sts(region);
  try {
    const out = await sts.send(new GetCallerIdentityCommand({}));
    return { account: out.Account ?? 'unknown', arn: out.Arn ?? 'unknown', region };
  } catch (error) {
    throw new CliError(plainAwsError(error, { region, action: 'sts:GetCallerIdentity' }) ?? String(error));
  } finally {
    sts.destroy();
  }
}

type AwsError = Error & {
  code?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number };
  cause?: unknown;
  errors?: unknown[];
};

const NETWORK_CODES = new Set([
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** A network code in an error's text (an error from another realm can reach us wrapped as text only). */
const NETWORK_IN_TEXT = new RegExp(`\\b(${[...NETWORK_CODES].join('|')})\\b`);

/** The errno-style code of a network failure, looking through `cause` and AggregateError. */
function networkCode(error: unknown, depth = 0): string | undefined {
  if (!error || typeof error !== 'object' || depth > 4) return undefined;
  const e = error as AwsError;
  if (e.code && NETWORK_CODES.has(e.code)) return e.code;
  if (e.name === 'TimeoutError' || e.name === 'RequestTimeout') return 'ETIMEDOUT';
  for (const inner of [e.cause, ...(e.errors ?? [])]) {
    const code = networkCode(inner, depth + 1);
    if (code) return code;
  }
  return undefined;
}

/** The host a network error names (`getaddrinfo ENOTFOUND cloudformation.eu-west-9.amazonaws.com`). */
function hostOf(error: unknown): string | undefined {
  const text = `${(error as Error)?.message ?? ''} ${String((error as AwsError)?.cause ?? '')}`;
  return (
    /(?:ENOTFOUND|EAI_AGAIN)\s+([^\s,)]+)/.exec(text)?.[1] ?? /connect \w+ ([\d.:a-f[\]]+)/.exec(text)?.[1]
  );
}

export interface AwsErrorContext {
  /** The region the call went to. */
  region?: string;
  /** `service:Action` that was refused, for the "grant ..." hint (the SDK does not always say). */
  action?: string;
}

/**
 * One line, in plain words, for the AWS failures an operator meets: no credentials, expired or
 * unknown credentials, denied access, an unreachable endpoint. Undefined for anything else (the
 * caller prints it as it is).
 */
export function plainAwsError(error: unknown, context: AwsErrorContext = {}): string | undefined {
  const e = error as AwsError;
  if (!e || typeof e !== 'object') return undefined;
  const name = e.name ?? '';
  const code = e.Code ?? e.code ?? '';
  const message = e.message ?? '';
  const where = context.region ? ` in ${context.region}` : '';
  if (name === 'CredentialsProviderError' || /could not load credentials/i.test(message))
    return 'no AWS credentials found: run `aws configure` (or `aws sso login --profile <name>` and export AWS_PROFILE=<name>), or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY';
  if (
    /ExpiredToken|TokenRefreshRequired|RequestExpired/.test(`${name} ${code}`) ||
    /token.*expired/i.test(message)
  )
    return 'your AWS session has expired: log in again (`aws sso login --profile <name>`) or refresh the temporary credentials';
  if (
    /InvalidClientTokenId|UnrecognizedClientException|InvalidAccessKeyId|SignatureDoesNotMatch|AuthFailure/.test(
      `${name} ${code}`,
    )
  )
    return `AWS does not accept these credentials (${name || code}): check AWS_PROFILE / AWS_ACCESS_KEY_ID and the secret key, or log in again`;
  if (
    /AccessDenied|NotAuthorized|UnauthorizedOperation|Forbidden/.test(`${name} ${code}`) ||
    e.$metadata?.httpStatusCode === 403
  ) {
    const action = /perform: ([a-z0-9-]+:[A-Za-z0-9]+)/.exec(message)?.[1] ?? context.action;
    return `AWS denied ${action ?? 'the call'}${where} (${name || code}): grant it to your role or user (docs/operations.md, "The CLI in AWS" lists what each command needs)`;
  }
  const network = networkCode(e) ?? NETWORK_IN_TEXT.exec(message)?.[1];
  if (network) {
    const host = hostOf(e);
    return `cannot reach AWS${host ? ` at ${host}` : ''}${where} (${network}): check the region name (--region), your network or proxy (HTTPS_PROXY), and any AWS_ENDPOINT_URL* variable`;
  }
  return undefined;
}
