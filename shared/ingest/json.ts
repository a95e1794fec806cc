import type { $ZodError } from 'zod/v4/core';
import type { EnvelopeIssue } from './provider';

/** Parses JSON text; `undefined` when it is not JSON (the caller answers 400). */
export function tryParseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

/** Zod issues as `{path, message}` pairs safe to return to the caller (no input values). */
export function toEnvelopeIssues(error: $ZodError): EnvelopeIssue[] {
  return error.issues.map((issue) => ({
    path: issue.path.map(String).join('.') || '(root)',
    message: issue.message,
  }));
}
