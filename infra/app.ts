import { createApp } from './create-app';
import { SettingsError } from './settings';

try {
  createApp().app.synth();
} catch (error) {
  // A settings mistake is the user's to fix: the message alone, no Node stack trace.
  if (!(error instanceof SettingsError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exitCode = 1;
}
