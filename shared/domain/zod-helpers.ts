import * as z from 'zod';

/** Optional field that providers send as null, absent or a value; always undefined when missing. */
export const opt = <T extends z.ZodType>(schema: T) =>
  schema.nullish().transform((v): z.output<T> | undefined => v ?? undefined);

/** An id that arrives as a number or a string. */
export const idString = z.union([z.string().min(1), z.number()]).transform(String);

/** A money amount as a decimal string (providers mix strings and numbers). */
export const money = z.union([z.string(), z.number()]).transform(String);

/** A status or type word, compared case-insensitively. */
export const lowerWord = z.string().transform((s) => s.trim().toLowerCase());

/** Drops undefined properties so stored items and comparisons stay minimal. */
export function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
