/** What shared/ingest/env.ts loads for an environment its plain code leaves to the schema (and only then). */
export { ingestEnvSchema, parseEnv } from '../config';
