/**
 * On a terminal, the handlers' JSON log lines become one readable line per event:
 * `time LEVEL message key=value ...` with the Lambda context fields left out. `--json-logs` (or
 * output to a pipe or file) keeps the JSON lines as Lambda writes them.
 */

/** Fields every line has (or only Lambda needs): shown as the line's head or not at all. */
const HIDDEN = new Set([
  'level',
  'message',
  'timestamp',
  'service',
  'sampling_rate',
  'xray_trace_id',
  'cold_start',
  'function_arn',
  'function_memory_size',
  'function_name',
  'function_request_id',
  'correlation_id',
]);

const COLOR: Record<string, string> = { WARN: '\x1b[33m', ERROR: '\x1b[31m', CRITICAL: '\x1b[31m' };

function fieldValue(value: unknown): string {
  if (typeof value === 'string') return /[\s"=]/.test(value) || value === '' ? JSON.stringify(value) : value;
  // An error object: its name and message, not its stack (the JSON mode keeps the stack).
  if (value && typeof value === 'object' && 'message' in value && 'name' in value)
    return JSON.stringify(
      `${String((value as { name: unknown }).name)}: ${String((value as { message: unknown }).message)}`,
    );
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 200 ? `${text.slice(0, 197)}...` : text;
}

interface EmfMetadata {
  Timestamp?: number;
  CloudWatchMetrics?: { Metrics?: { Name?: string }[]; Dimensions?: string[][] }[];
}

/**
 * A CloudWatch embedded-metric line (`{"_aws":...}`, what Powertools Metrics writes) as one short
 * line: `time METRIC Name=value ...  dimension=value ...`; undefined when it is not one.
 */
function formatMetricLine(entry: Record<string, unknown>, color: boolean): string | undefined {
  const aws = entry._aws as EmfMetadata | undefined;
  if (!aws || typeof aws !== 'object' || !Array.isArray(aws.CloudWatchMetrics)) return undefined;
  const names = aws.CloudWatchMetrics.flatMap((m) => (m.Metrics ?? []).map((metric) => metric.Name));
  const dimensions = new Set(aws.CloudWatchMetrics.flatMap((m) => (m.Dimensions ?? []).flat()));
  dimensions.delete('service');
  const time = typeof aws.Timestamp === 'number' ? new Date(aws.Timestamp).toISOString().slice(11, 23) : '';
  const values = names
    .filter((name): name is string => typeof name === 'string')
    .map((name) => `${name}=${fieldValue(entry[name])}`);
  const fields = [...dimensions].map((name) => `${name}=${fieldValue(entry[name])}`);
  const head = color ? '\x1b[2mMETRIC\x1b[0m' : 'METRIC';
  return `${time} ${head} ${values.join(' ')}${fields.length > 0 ? `  ${fields.join(' ')}` : ''}`;
}

/** One log line for a Powertools JSON line; undefined for anything else (printed unchanged). */
export function formatLogLine(line: string, color = false): string | undefined {
  if (!line.startsWith('{')) return undefined;
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (entry && typeof entry === 'object' && '_aws' in entry) return formatMetricLine(entry, color);
  if (typeof entry?.level !== 'string' || typeof entry.message !== 'string') return undefined;
  const time = typeof entry.timestamp === 'string' ? entry.timestamp.slice(11, 23) : '';
  const level = entry.level.padEnd(5);
  const fields = Object.entries(entry)
    .filter(([key, value]) => !HIDDEN.has(key) && value !== undefined && value !== null)
    .map(([key, value]) => `${key}=${fieldValue(value)}`);
  const head = color && COLOR[entry.level] ? `${COLOR[entry.level]}${level}\x1b[0m` : level;
  return `${time} ${head} ${entry.message}${fields.length > 0 ? `  ${fields.join(' ')}` : ''}`;
}

/** Rewrites JSON log lines written to `stream` (Powertools writes one line per call). */
export function installLineLogs(stream: NodeJS.WriteStream, color = Boolean(stream.isTTY)): void {
  const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
  stream.write = ((chunk: unknown, ...rest: unknown[]) => {
    if (typeof chunk !== 'string' && !(chunk instanceof Uint8Array)) return write(chunk, ...rest);
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    if (!text.includes('{"')) return write(chunk, ...rest);
    const lines = text.split('\n').map((line) => formatLogLine(line, color) ?? line);
    return write(lines.join('\n'), ...rest);
  }) as typeof stream.write;
}
