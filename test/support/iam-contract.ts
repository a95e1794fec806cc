import { readFileSync } from 'node:fs';
import type { Template } from 'aws-cdk-lib/assertions';
import type { AwsCallRecord } from '../../shared/aws/call-recorder';

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;
interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

/** Each function's description prefix in the stack (how the template names it). */
const FUNCTION_DESCRIPTION: Record<AwsCallRecord['fn'], string> = {
  ingest: 'order-webhooks ingest',
  worker: 'order-webhooks worker',
  reconcile: 'order-webhooks reconcile',
};

/** A logical id for Ref / Fn::GetAtt, or the literal value (an imported ARN). */
function targetOf(value: unknown): string {
  const v = value as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
  if (typeof value === 'string') return value;
  return v.Ref ?? v['Fn::GetAtt']?.[0] ?? JSON.stringify(value);
}

function actionMatches(pattern: string, action: string): boolean {
  return globMatches(pattern, action, 'i');
}
function globMatches(pattern: string, value: string, flags = ''): boolean {
  return new RegExp(`^${pattern.split('*').map(escapeRegex).join('.*')}$`, flags).test(value);
}

/**
 * Whether a statement's resource covers the call: the bound resource itself, or for an S3 object
 * call, `<bucket ARN>/<prefix>*` (Fn::Join of the bucket's Arn and the prefix) matching its key.
 */
function resourceCovers(resource: unknown, target: string, record: AwsCallRecord): boolean {
  if (resource === '*') return true;
  if (record.objectKey === undefined) return targetOf(resource) === target;
  const join = (resource as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  const [arn, suffix, ...rest] = join?.[1] ?? [];
  return (
    rest.length === 0 &&
    targetOf(arn) === target &&
    typeof suffix === 'string' &&
    suffix.startsWith('/') &&
    globMatches(suffix.slice(1), record.objectKey)
  );
}

/**
 * A `dynamodb:LeadingKeys` condition limits a statement to items with those partition keys: the call
 * must name one that matches (a batch call names many, so such a statement never covers it).
 * Other conditions are not modelled.
 */
function conditionAllows(statement: Statement, record: AwsCallRecord): boolean {
  for (const [operator, tests] of Object.entries(statement.Condition ?? {})) {
    const allowed = tests['dynamodb:LeadingKeys'];
    if (allowed === undefined) continue;
    if (record.pk === undefined) return false;
    const pk = record.pk;
    const patterns = [allowed].flat().map(String);
    const like = operator.endsWith('StringLike');
    if (!patterns.some((p) => (like ? globMatches(p, pk) : p === pk))) return false;
  }
  return true;
}
const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** What a function's role may do: its environment (binding -> resource) and its Allow statements. */
function grantsOf(template: Template, fn: AwsCallRecord['fn']) {
  const functions = template.findResources('AWS::Lambda::Function') as Resources;
  const found = Object.values(functions).find((f) =>
    String(f.Properties.Description ?? '').startsWith(FUNCTION_DESCRIPTION[fn]),
  );
  if (!found) throw new Error(`no ${fn} function in the template`);
  const roleId = targetOf(found.Properties.Role);
  const env = ((found.Properties.Environment as { Variables?: Record<string, unknown> })?.Variables ??
    {}) as Record<string, unknown>;
  const policies = template.findResources('AWS::IAM::Policy') as Resources;
  const statements = Object.values(policies)
    .filter((p) => (p.Properties.Roles as unknown[]).some((r) => targetOf(r) === roleId))
    .flatMap((p) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement)
    .filter((s) => s.Effect === 'Allow');
  return { env, statements };
}

/**
 * The recorded calls no statement of the function's role allows, each as a readable line
 * (`worker dynamodb:GetItem on IDEMPOTENCY_TABLE (IdempotencyTable...)`). The resource is found
 * through the environment variable the stack binds to it, the same way the function finds it.
 */
export function ungrantedCalls(records: readonly AwsCallRecord[], template: Template): string[] {
  const problems = new Set<string>();
  const grants = {
    ingest: grantsOf(template, 'ingest'),
    worker: grantsOf(template, 'worker'),
    reconcile: grantsOf(template, 'reconcile'),
  };
  for (const record of records) {
    const { env, statements } = grants[record.fn];
    const bound = env[record.binding];
    if (bound === undefined) {
      problems.add(`${record.fn} ${record.action} on ${record.binding}: not a resource the stack gives it`);
      continue;
    }
    const target = targetOf(bound);
    const allowed = statements.some(
      (s) =>
        [s.Action].flat().some((a) => actionMatches(a, record.action)) &&
        [s.Resource].flat().some((r) => resourceCovers(r, target, record)) &&
        conditionAllows(s, record),
    );
    const detail = record.objectKey
      ? ` key ${record.objectKey.split('/')[0]}/`
      : record.pk
        ? ` item ${record.pk.split('#')[0]}#`
        : '';
    if (!allowed) problems.add(`${record.fn} ${record.action} on ${record.binding}${detail} (${target})`);
  }
  return [...problems].sort();
}

/** The records appended to `file` (one JSON line each); none when it does not exist. */
export function readCallRecords(file: string | undefined): AwsCallRecord[] {
  if (!file) return [];
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as AwsCallRecord);
}
