/** What every benchmark sets first: dummy credentials for the emulators, no SDK Node-version notice. */
export function benchAwsEnv(): void {
  process.env.AWS_ACCESS_KEY_ID ??= 'bench';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'bench';
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
}

/** The value after `--name` on the command line, or `fallback`. */
export function benchArg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? String(process.argv[i + 1]) : fallback;
}
