import { parseArgs } from 'node:util';
import {
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  type Message,
  type MessageAttributeValue,
  SendMessageCommand,
  type SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { ATTR } from '../../shared/queue/message';
import {
  AWS_SCAN,
  describeScan,
  LOCAL_SCAN,
  type ScanOptions,
  type ScanReport,
  type SqsSend,
  scanQueue,
} from './dlq-scan';
import {
  CliError,
  confirmAws,
  need,
  progress,
  progressDone,
  resolveTarget,
  TARGET_HELP,
  TARGET_OPTIONS,
  type Target,
  UsageError,
} from './target';

export const DLQ_HELP = `Usage: order-webhooks dlq <list|show|redrive> [options]

  list                 messages in the dead-letter queue with their failure reason
  show <messageId>     one message: attributes and body
  redrive [<id>...]    moves messages (all, or the given ids) back to the main queue; a message is
                       deleted from the dead-letter queue only after the main queue has accepted it.
                       In AWS, redriving all uses SQS StartMessageMoveTask.

In AWS, list, show, redrive <id> and --one-by-one long-poll (20 s) and end when the queue reports no
visible message left or after two empty long polls in a row; what they read stays hidden until the
scan ends. A summary on stderr says how many messages were scanned.

Options:
  --json               machine-readable output
  --max <n>            list: read at most n messages (default 1000)
  --one-by-one         redrive in AWS message by message instead of a move task
  --yes, -y            redrive in AWS without asking (it asks, naming the account and region)
${TARGET_HELP}
  -h, --help`;

const FAILURE_ATTRS: readonly string[] = [
  ATTR.failureClass,
  ATTR.failureReason,
  ATTR.failureStep,
  ATTR.failedAt,
];

export interface DlqEntry {
  messageId: string;
  provider: string | undefined;
  topic: string | undefined;
  deliveryKey: string | undefined;
  receivedAt: string | undefined;
  failureClass: string | undefined;
  failureReason: string;
  failureStep: string | undefined;
  failedAt: string | undefined;
  /**
   * Failure attributes from an earlier failure that this message still carries (an SQS move task
   * or the console's redrive keeps them), shown apart so they are never taken for the current one.
   */
  earlierFailure?: { failureClass?: string; failureReason?: string; failureStep?: string; failedAt?: string };
  receiveCount: number;
  body: string;
}

function attr(message: Message, name: string): string | undefined {
  return message.MessageAttributes?.[name]?.StringValue;
}

const MOVED_BY_SQS = 'moved by SQS after repeated failed deliveries (maxReceiveCount); see the worker logs';

export function toDlqEntry(message: Message): DlqEntry {
  const failure = {
    failureClass: attr(message, ATTR.failureClass),
    failureReason: attr(message, ATTR.failureReason),
    failureStep: attr(message, ATTR.failureStep),
    failedAt: attr(message, ATTR.failedAt),
  };
  // The worker writes failure attributes only on messages it sends to the DLQ itself; SQS marks the
  // ones it moved after maxReceiveCount with DeadLetterQueueSourceArn. A moved message carrying
  // failure attributes therefore got them from an earlier failure, before a redrive.
  const movedBySqs = message.Attributes?.DeadLetterQueueSourceArn !== undefined;
  const current = movedBySqs || failure.failureReason === undefined ? undefined : failure;
  const earlier = movedBySqs && failure.failureReason !== undefined ? failure : undefined;
  return {
    messageId: message.MessageId ?? '',
    provider: attr(message, ATTR.provider),
    topic: attr(message, ATTR.topic),
    deliveryKey: attr(message, ATTR.deliveryKey),
    receivedAt: attr(message, ATTR.receivedAt),
    failureClass: current?.failureClass,
    failureReason: current?.failureReason ?? MOVED_BY_SQS,
    failureStep: current?.failureStep,
    failedAt: current?.failedAt,
    ...(earlier ? { earlierFailure: earlier } : {}),
    receiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? 0),
    body: message.Body ?? '',
  };
}

/** Original attributes minus the failure ones the worker added. */
export function redriveAttributes(message: Message): Record<string, MessageAttributeValue> {
  const out: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {}))
    if (!FAILURE_ATTRS.includes(name)) out[name] = value;
  return out;
}

/**
 * Moves messages one by one: SendMessage to the main queue, and only once that succeeded,
 * DeleteMessage from the dead-letter queue. A crash in between leaves a copy in both queues, never
 * none; the worker's idempotency makes the extra copy harmless. The copy carries no failure
 * attributes, so a later failure never shows this one's reason as its own.
 */
export async function redriveOneByOne(
  sqs: SqsSend,
  dlqUrl: string,
  queueUrl: string,
  ids?: ReadonlySet<string>,
  scan: Omit<ScanOptions, 'max'> = AWS_SCAN,
): Promise<{ moved: number; remaining: number; scan: ScanReport }> {
  let moved = 0;
  let skipped = 0;
  const report = await scanQueue(sqs, dlqUrl, { ...scan, max: Number.MAX_SAFE_INTEGER }, async (message) => {
    if (ids && !ids.has(message.MessageId ?? '')) {
      skipped++;
      return {};
    }
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: message.Body ?? '',
        MessageAttributes: redriveAttributes(message),
      }),
    );
    await sqs.send(new DeleteMessageCommand({ QueueUrl: dlqUrl, ReceiptHandle: message.ReceiptHandle }));
    moved++;
    progress(`redriven ${moved}`);
    return { deleted: true, stop: ids !== undefined && moved === ids.size };
  });
  progressDone();
  return { moved, remaining: skipped, scan: report };
}

/** Reads up to `max` messages without consuming them (see scanQueue). */
export async function peekAll(
  sqs: SqsSend,
  queueUrl: string,
  max: number,
  scan: Omit<ScanOptions, 'max'> = AWS_SCAN,
): Promise<{ messages: Message[]; scan: ScanReport }> {
  const messages: Message[] = [];
  const report = await scanQueue(
    sqs,
    queueUrl,
    { ...scan, max },
    async (message) => {
      messages.push(message);
      return {};
    },
    (seen) => progress(`reading dead-letter queue: ${seen}`),
  );
  progressDone();
  return { messages, scan: report };
}

/** Finds one message by id, reading until it turns up or the scan ends. */
export async function findMessage(
  sqs: SqsSend,
  queueUrl: string,
  id: string,
  scan: Omit<ScanOptions, 'max'> = AWS_SCAN,
): Promise<{ message: Message | undefined; scan: ScanReport }> {
  let found: Message | undefined;
  const report = await scanQueue(sqs, queueUrl, { ...scan, max: Number.MAX_SAFE_INTEGER }, async (m) => {
    if (m.MessageId !== id) return {};
    found = m;
    return { stop: true };
  });
  return { message: found, scan: report };
}

async function queueArn(sqs: SQSClient, url: string): Promise<string> {
  const out = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
  const arn = out.Attributes?.QueueArn;
  if (!arn) throw new CliError(`no ARN for ${url}`);
  return arn;
}

async function redriveWithMoveTask(sqs: SQSClient, dlqUrl: string, queueUrl: string): Promise<number> {
  const [source, destination] = await Promise.all([queueArn(sqs, dlqUrl), queueArn(sqs, queueUrl)]);
  await sqs.send(new StartMessageMoveTaskCommand({ SourceArn: source, DestinationArn: destination }));
  for (;;) {
    await new Promise((r) => setTimeout(r, 2000));
    const tasks = await sqs.send(new ListMessageMoveTasksCommand({ SourceArn: source, MaxResults: 1 }));
    const task = tasks.Results?.[0];
    if (!task) continue;
    progress(
      `move task ${task.Status}: ${task.ApproximateNumberOfMessagesMoved ?? 0}/${task.ApproximateNumberOfMessagesToMove ?? '?'}`,
    );
    if (task.Status === 'COMPLETED') {
      progressDone();
      return task.ApproximateNumberOfMessagesMoved ?? 0;
    }
    if (task.Status === 'FAILED' || task.Status === 'CANCELLED') {
      progressDone();
      throw new CliError(`move task ${task.Status}: ${task.FailureReason ?? 'no reason given'}`);
    }
  }
}

/** How the target's dead-letter queue is scanned: exact on the emulator, long polls in AWS. */
export function scanOptionsFor(target: Pick<Target, 'kind'>): Omit<ScanOptions, 'max'> {
  return target.kind === 'local' ? LOCAL_SCAN : AWS_SCAN;
}

/** `dlq list` (and the console): up to `max` dead-letter messages, read without consuming them. */
export async function listDlq(
  target: Target,
  max: number,
): Promise<{ entries: DlqEntry[]; scan: ScanReport }> {
  const read = await peekAll(target.sqs, need(target.dlqUrl, 'DLQ_URL'), max, scanOptionsFor(target));
  return { entries: read.messages.map(toDlqEntry), scan: read.scan };
}

/** `dlq show <id>` (and the console): one dead-letter message, or undefined when the scan did not find it. */
export async function showDlqMessage(
  target: Target,
  id: string,
): Promise<{ entry: DlqEntry | undefined; scan: ScanReport }> {
  const found = await findMessage(target.sqs, need(target.dlqUrl, 'DLQ_URL'), id, scanOptionsFor(target));
  return { entry: found.message ? toDlqEntry(found.message) : undefined, scan: found.scan };
}

/** `dlq redrive <id>...` (and the console): moves exactly these messages back, one by one. */
export function redriveDlq(
  target: Target,
  ids: ReadonlySet<string>,
): Promise<{ moved: number; remaining: number; scan: ScanReport }> {
  return redriveOneByOne(
    target.sqs,
    need(target.dlqUrl, 'DLQ_URL'),
    need(target.queueUrl, 'QUEUE_URL'),
    ids,
    scanOptionsFor(target),
  );
}

function short(text: string | undefined, width: number): string {
  const value = text ?? '-';
  return value.length > width ? `${value.slice(0, width - 1)}…` : value.padEnd(width);
}

export async function runDlq(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      json: { type: 'boolean' },
      max: { type: 'string' },
      'one-by-one': { type: 'boolean' },
      yes: { type: 'boolean', short: 'y' },
      help: { type: 'boolean', short: 'h' },
      ...TARGET_OPTIONS,
    },
  });
  const [action, ...rest] = positionals;
  if (values.help || !action) {
    process.stdout.write(`${DLQ_HELP}\n`);
    return values.help ? 0 : 2;
  }
  const max = Number(values.max ?? 1000);
  if (!Number.isInteger(max) || max < 1) throw new UsageError('--max must be a positive integer');
  const target = await resolveTarget(values);
  const dlqUrl = need(target.dlqUrl, 'DLQ_URL');
  const scan = scanOptionsFor(target);
  const summary = (report: ScanReport) => process.stderr.write(`${describeScan(report)}\n`);

  if (action === 'list') {
    const read = await listDlq(target, max);
    const entries = read.entries;
    summary(read.scan);
    if (values.json) {
      process.stdout.write(`${JSON.stringify(entries, null, 2)}\n`);
      return 0;
    }
    if (entries.length === 0) {
      process.stdout.write('dead-letter queue is empty\n');
      return 0;
    }
    process.stdout.write(
      `${'MESSAGE ID'.padEnd(38)}${'PROVIDER'.padEnd(17)}${'TOPIC'.padEnd(22)}${'CLASS'.padEnd(11)}REASON\n`,
    );
    for (const e of entries)
      process.stdout.write(
        `${short(e.messageId, 38)}${short(e.provider, 17)}${short(e.topic, 22)}${short(e.failureClass, 11)}${e.failureStep ? `[${e.failureStep}] ` : ''}${e.failureReason}${e.earlierFailure ? ` (before a redrive: ${e.earlierFailure.failureReason})` : ''}\n`,
      );
    process.stdout.write(`${entries.length} message(s)\n`);
    return 0;
  }
  if (action === 'show') {
    const [id] = rest;
    if (!id || rest.length > 1) throw new UsageError('dlq show needs one <messageId>');
    const found = await showDlqMessage(target, id);
    const entry = found.entry;
    if (!entry) {
      summary(found.scan);
      throw new CliError(`message ${id} is not in the dead-letter queue`);
    }
    if (values.json) process.stdout.write(`${JSON.stringify(entry, null, 2)}\n`);
    else {
      const { body, earlierFailure, ...meta } = entry;
      for (const [k, v] of Object.entries(meta)) process.stdout.write(`${k.padEnd(14)} ${v ?? '-'}\n`);
      if (earlierFailure)
        process.stdout.write(
          `${'earlier'.padEnd(14)} ${earlierFailure.failureClass ?? '-'} [${earlierFailure.failureStep ?? '-'}] ${earlierFailure.failureReason ?? '-'} at ${earlierFailure.failedAt ?? '-'} (before a redrive)\n`,
        );
      process.stdout.write(`body\n${body}\n`);
    }
    return 0;
  }
  if (action === 'redrive') {
    const queueUrl = need(target.queueUrl, 'QUEUE_URL');
    const what = rest.length > 0 ? `${rest.length} message(s)` : 'every message';
    if (!(await confirmAws(target, values.yes, `redrive ${what} from the dead-letter queue`))) {
      process.stdout.write('nothing moved\n');
      return 1;
    }
    let moved: number;
    let remaining = 0;
    let seen: number | undefined;
    if (target.kind === 'aws' && rest.length === 0 && !values['one-by-one']) {
      moved = await redriveWithMoveTask(target.sqs, dlqUrl, queueUrl);
    } else {
      const ids = rest.length > 0 ? new Set(rest) : undefined;
      const result = await redriveOneByOne(target.sqs, dlqUrl, queueUrl, ids, scan);
      ({ moved, remaining } = result);
      seen = result.scan.seen;
      summary(result.scan);
      if (ids && moved < ids.size) {
        const message = `moved ${moved} of ${ids.size} requested message(s); the others were not found among the ${seen} scanned`;
        if (values.json)
          process.stdout.write(`${JSON.stringify({ moved, remaining, seen, error: message })}\n`);
        else process.stderr.write(`${message}\n`);
        return 1;
      }
    }
    if (values.json)
      process.stdout.write(
        `${JSON.stringify({ moved, remaining, ...(seen === undefined ? {} : { seen }) })}\n`,
      );
    else process.stdout.write(`moved ${moved} message(s) back to the main queue\n`);
    return 0;
  }
  throw new UsageError(`unknown dlq action "${action}": list, show or redrive`);
}
