import { type FromEnvInit, fromEnv } from '@aws-sdk/credential-provider-env';

/**
 * Stands in for `@aws-sdk/credential-provider-node` in the Lambda bundles only (infra/bundling.ts
 * aliases it here): every SDK client's default credentials come from the environment, which is
 * where the standard Lambda runtime puts the execution role's credentials. The SSO, ini/shared
 * config, process, web-identity, container and instance-metadata providers of the full chain never
 * run in Lambda, so they are not bundled (about 100 KiB less to parse at every cold start). The
 * CLI and the local mode import the real package and keep the full chain.
 */
export const defaultProvider = (init?: FromEnvInit) => fromEnv(init);
