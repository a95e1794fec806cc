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

/** An envelope check's answer: the envelope, or the issues to return with the 400. */
export type EnvelopeResult<T> = { success: true; data: T } | { success: false; issues: EnvelopeIssue[] };

/**
 * The envelope schema's answer, for a value the provider's plain check did not accept. The schema
 * (zod) is the definition and gives the issues; the plain check accepts only what it accepts
 * (test/unit/providers/envelope-checks.test.ts), so an ingest that queues webhooks never loads it;
 * an instance's first refused envelope pays for loading zod (up to about 8 ms of CPU, once).
 */
export function bySchema<T>(
  schema: { safeParse(value: unknown): { success: true; data: T } | { success: false; error: $ZodError } },
  value: unknown,
): EnvelopeResult<T> {
  const result = schema.safeParse(value);
  return result.success ? result : { success: false, issues: toEnvelopeIssues(result.error) };
}

/** A JSON object (not null, not an array), as zod's object schemas take it. */
export const isJsonObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
