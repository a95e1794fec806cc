import { rmSync } from 'node:fs';
import path from 'node:path';
import type { Emulator } from '../../scripts/local/emulators';

export default async function globalTeardown(): Promise<void> {
  const emulators = (globalThis as { __emulators__?: Emulator[] }).__emulators__ ?? [];
  await Promise.all(emulators.map((emulator) => emulator.stop()));
  await checkRecordedCalls();
}

/**
 * The IAM contract over the whole run: every AWS call the functions made in any suite (recorded
 * through AWS_CALL_RECORD_FILE, see global-setup) must be granted by the synthesized template.
 * Here because only the teardown runs after every suite; a failure fails the run.
 */
async function checkRecordedCalls(): Promise<void> {
  const file = process.env.AWS_CALL_RECORD_FILE;
  if (!file) return;
  const { readCallRecords, ungrantedCalls } = await import('./iam-contract');
  const records = readCallRecords(file);
  rmSync(path.dirname(file), { recursive: true, force: true });
  if (records.length === 0) return;
  const { buildStack } = await import('../infra/build-stack');
  const problems = ungrantedCalls(records, buildStack().template);
  if (problems.length > 0)
    throw new Error(
      `IAM contract: ${problems.length} AWS call(s) made during the tests have no grant in the stack:\n  ${problems.join('\n  ')}`,
    );
}
