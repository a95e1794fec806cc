import type { Emulator } from '../../scripts/local/emulators';

export default async function globalTeardown(): Promise<void> {
  const emulators = (globalThis as { __emulators__?: Emulator[] }).__emulators__ ?? [];
  await Promise.all(emulators.map((emulator) => emulator.stop()));
}
