import { parseArgs } from 'node:util';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  type Message,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { ATTR } from '../../shared/queue/message';
import {
  CliError,
  need,
  progress,
  progressDone,
  resolveTarget,
  TARGET_HELP,
  TARGET_OPTIONS,
  UsageError,
} from './target';

export const DLQ_HELP = `Usage: order-webhooks dlq <list|show|redrive> [options]

  list                 messages in the dead-letter queue with their failure reason
  show <messageId>     one message: attributes and body
  redrive [<id>...]    moves messages (all, or the given ids) back to the main queue; a message is
                       deleted from the dead-letter queue only after the main queue has accepted it.
                       In AWS, redriving all uses SQS StartMessageMoveTask.

Options:
  --json               machine-readable output
  --max <n>            list: read at most n messages (default 1000)
  --one-by-one         redrive in AWS message by message instead of a move task
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
  receiveCount: number;
  body: string;
}

function attr(message: Message, name: string): string | undefined {
  return message.MessageAttributes?.[name]?.StringValue;
}

export function toDlqEntry(message: Message): DlqEntry {
  return {
    messageId: message.MessageId ?? '',
    provider: attr(message, ATTR.provider),
    topic: attr(message, ATTR.topic),
    deliveryKey: attr(message, ATTR.deliveryKey),
    receivedAt: attr(message, ATTR.receivedAt),
    failureClass: attr(message, ATTR.failureClass),
    // No failure attributes: SQS itself moved it after maxReceiveCount failed deliveries.
    failureReason:
      attr(message, ATTR.failureReason) ?? 'moved by SQS after repeated failed deliveries (maxReceiveCount)',
    failureStep: attr(message, ATTR.failureStep),
    failedAt: attr(message, ATTR.failedAt),
    receiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? 0),
    body: message.Body ?? '',
  };
}

/**
 * Reads up to `max` messages without consuming them: each is hidden while the scan runs (so it is
 * seen once) and made visible again at the end.
 */
/**
 * Receives up to `count` messages with every attribute and hides them for 60 s, so a listing or a
 * redrive sees each message once; callers release what they do not delete.
 */
async function receiveHeld(sqs: SQSClient, queueUrl: string, count: number): Promise<Message[]> {
  const out = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: count,
      VisibilityTimeout: 60,
      WaitTimeSeconds: 0,
      MessageAttributeNames: ['All'],
      MessageSystemAttributeNames: ['All'],
    }),
  );
  return out.Messages ?? [];
}

async function peekAll(sqs: SQSClient, queueUrl: string, max: number): Promise<Message[]> {
  const seen = new Map<string, Message>();
  try {
    while (seen.size < max) {
      const got = await receiveHeld(sqs, queueUrl, Math.min(10, max - seen.size));
      if (got.length === 0) break;
      for (const m of got) if (m.MessageId) seen.set(m.MessageId, m);
      progress(`reading dead-letter queue: ${seen.size}`);
    }
  } finally {
    await release(sqs, queueUrl, [...seen.values()]);
    progressDone();
  }
  return [...seen.values()];
}

async function release(sqs: SQSClient, queueUrl: string, messages: Message[]): Promise<void> {
  for (let i = 0; i < messages.length; i += 10) {
    const chunk = messages.slice(i, i + 10);
    await sqs
      .send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: queueUrl,
          Entries: chunk.map((m, n) => ({
            Id: String(n),
            ReceiptHandle: m.ReceiptHandle,
            VisibilityTimeout: 0,
          })),
        }),
      )
      .catch(() => undefined);
  }
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
 * none; the worker's idempotency makes the extra copy harmless.
 */
export async function redriveOneByOne(
  sqs: SQSClient,
  dlqUrl: string,
  queueUrl: string,
  ids?: ReadonlySet<string>,
): Promise<{ moved: number; remaining: number }> {
  let moved = 0;
  let skipped = 0;
  // Received and not deleted: made visible again at the end, whatever happens (an error included).
  const held = new Map<string, Message>();
  try {
    for (;;) {
      const got = await receiveHeld(sqs, dlqUrl, 10);
      if (got.length === 0) break;
      for (const message of got) held.set(message.ReceiptHandle ?? '', message);
      for (const message of got) {
        if (ids && !ids.has(message.MessageId ?? '')) {
          skipped++;
          continue;
        }
        await sqs.send(
          new SendMessageCommand({
            QueueUrl: queueUrl,
            MessageBody: message.Body ?? '',
            MessageAttributes: redriveAttributes(message),
          }),
        );
        await sqs.send(new DeleteMessageCommand({ QueueUrl: dlqUrl, ReceiptHandle: message.ReceiptHandle }));
        held.delete(message.ReceiptHandle ?? '');
        moved++;
        progress(`redriven ${moved}`);
      }
      if (ids && moved === ids.size) break;
    }
  } finally {
    await release(sqs, dlqUrl, [...held.values()]);
    progressDone();
  }
  return { moved, remaining: skipped };
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
  const target = resolveTarget(values);
  const dlqUrl = need(target.dlqUrl, 'DLQ_URL');

  if (action === 'list') {
    const entries = (await peekAll(target.sqs, dlqUrl, max)).map(toDlqEntry);
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
        `${short(e.messageId, 38)}${short(e.provider, 17)}${short(e.topic, 22)}${short(e.failureClass, 11)}${e.failureStep ? `[${e.failureStep}] ` : ''}${e.failureReason}\n`,
      );
    process.stdout.write(`${entries.length} message(s)\n`);
    return 0;
  }
  if (action === 'show') {
    const [id] = rest;
    if (!id || rest.length > 1) throw new UsageError('dlq show needs one <messageId>');
    const entry = (await peekAll(target.sqs, dlqUrl, max)).map(toDlqEntry).find((e) => e.messageId === id);
    if (!entry) throw new CliError(`message ${id} is not in the dead-letter queue`);
    if (values.json) process.stdout.write(`${JSON.stringify(entry, null, 2)}\n`);
    else {
      const { body, ...meta } = entry;
      for (const [k, v] of Object.entries(meta)) process.stdout.write(`${k.padEnd(14)} ${v ?? '-'}\n`);
      process.stdout.write(`body\n${body}\n`);
    }
    return 0;
  }
  if (action === 'redrive') {
    const queueUrl = need(target.queueUrl, 'QUEUE_URL');
    let moved: number;
    let remaining = 0;
    if (target.kind === 'aws' && rest.length === 0 && !values['one-by-one']) {
      moved = await redriveWithMoveTask(target.sqs, dlqUrl, queueUrl);
    } else {
      const ids = rest.length > 0 ? new Set(rest) : undefined;
      ({ moved, remaining } = await redriveOneByOne(target.sqs, dlqUrl, queueUrl, ids));
      if (ids && moved < ids.size) {
        const message = `moved ${moved} of ${ids.size} requested message(s); the others were not found`;
        if (values.json) process.stdout.write(`${JSON.stringify({ moved, remaining, error: message })}\n`);
        else process.stderr.write(`${message}\n`);
        return 1;
      }
    }
    if (values.json) process.stdout.write(`${JSON.stringify({ moved, remaining })}\n`);
    else process.stdout.write(`moved ${moved} message(s) back to the main queue\n`);
    return 0;
  }
  throw new UsageError(`unknown dlq action "${action}": list, show or redrive`);
}
