import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  type Message,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import type { SqsSend } from '../../scripts/cli/dlq-scan';

interface Stored {
  id: string;
  body: string;
  attributes: Record<string, MessageAttributeValue>;
  system: Record<string, string>;
  visibleAt: number;
  receipt: string;
  /** Index of the server that stores it: a short poll samples some servers only. */
  server: number;
}

/**
 * An SQS queue as the AWS documentation describes it, on a virtual clock, for the CLI's scans:
 * - a short poll (WaitTimeSeconds 0) samples a subset of servers and answers empty ("false empty
 *   response") while messages wait on the others;
 * - a long poll asks every server and returns once something is visible, often fewer messages than
 *   asked for; when nothing is visible it waits the full WaitTimeSeconds and answers empty;
 * - a received message stays hidden for its VisibilityTimeout and then comes back;
 * - ApproximateNumberOfMessages may lag (`countLag`: reports what was visible that many calls ago).
 * Ours rather than moto's or fauxqs's: both answer every short poll with what is visible, so neither
 * can show a scan surviving AWS's false-empty short polls and lagging counts.
 */
export class AwsLikeSqs implements SqsSend {
  private clock = 1_000_000;
  private readonly queues = new Map<string, Stored[]>();
  private shortPolls = 0;
  private seq = 0;
  /** Per message id: how many times a receive returned it. */
  readonly receives = new Map<string, number>();
  /** Sent to other queues (e.g. the main queue during a redrive). */
  readonly sent: { queueUrl: string; body: string; attributes: Record<string, MessageAttributeValue> }[] = [];
  readonly calls: string[] = [];

  constructor(
    private readonly options: {
      servers?: number;
      /** Most messages one long poll returns. */
      perReceive?: number;
      /** Virtual milliseconds each receive that returns something takes. */
      receiveMs?: number;
      countLag?: number;
    } = {},
  ) {}

  now = (): number => this.clock;

  add(
    queueUrl: string,
    body: string,
    attributes: Record<string, MessageAttributeValue> = {},
    system: Record<string, string> = {},
  ): string {
    const id = `m-${++this.seq}`;
    const list = this.queues.get(queueUrl) ?? [];
    list.push({
      id,
      body,
      attributes,
      system,
      visibleAt: 0,
      receipt: '',
      server: list.length % (this.options.servers ?? 4),
    });
    this.queues.set(queueUrl, list);
    return id;
  }

  /** Messages visible right now (not held by anyone). */
  visible(queueUrl: string): string[] {
    return (this.queues.get(queueUrl) ?? []).filter((m) => m.visibleAt <= this.clock).map((m) => m.id);
  }

  private readonly countHistory: number[] = [];

  // biome-ignore lint/suspicious/noExplicitAny: a fake at the SDK boundary answers each command type
  send = (async (command: any): Promise<any> => {
    this.calls.push(command.constructor.name);
    const input = command.input;
    const list = this.queues.get(input.QueueUrl) ?? [];
    if (command instanceof GetQueueAttributesCommand) {
      const visibleNow = list.filter((m) => m.visibleAt <= this.clock).length;
      this.countHistory.push(visibleNow);
      const lag = this.options.countLag ?? 0;
      const reported = this.countHistory[Math.max(0, this.countHistory.length - 1 - lag)] ?? visibleNow;
      return {
        Attributes: {
          ApproximateNumberOfMessages: String(reported),
          ApproximateNumberOfMessagesNotVisible: String(list.length - visibleNow),
        },
      };
    }
    if (command instanceof ReceiveMessageCommand) {
      const servers = this.options.servers ?? 4;
      let candidates = list.filter((m) => m.visibleAt <= this.clock);
      if (!input.WaitTimeSeconds) {
        // A short poll samples one server; here the sampled server rotates and holds nothing first.
        const sampled = this.shortPolls++ % servers;
        candidates = sampled === 0 ? [] : candidates.filter((m) => m.server === sampled);
      }
      const take = candidates.slice(
        0,
        Math.min(input.MaxNumberOfMessages ?? 1, this.options.perReceive ?? 10),
      );
      if (take.length === 0) {
        this.clock += (input.WaitTimeSeconds ?? 0) * 1000 + 50;
        return { Messages: [] };
      }
      this.clock += this.options.receiveMs ?? 200;
      return {
        Messages: take.map((m): Message => {
          m.visibleAt = this.clock + (input.VisibilityTimeout ?? 30) * 1000;
          m.receipt = `${m.id}@${++this.seq}`;
          this.receives.set(m.id, (this.receives.get(m.id) ?? 0) + 1);
          return {
            MessageId: m.id,
            ReceiptHandle: m.receipt,
            Body: m.body,
            MessageAttributes: m.attributes,
            Attributes: { ApproximateReceiveCount: String(this.receives.get(m.id)), ...m.system },
          };
        }),
      };
    }
    if (command instanceof ChangeMessageVisibilityBatchCommand) {
      for (const entry of input.Entries) {
        const m = list.find((x) => x.receipt === entry.ReceiptHandle && x.visibleAt > this.clock);
        if (m) m.visibleAt = this.clock + entry.VisibilityTimeout * 1000;
      }
      return { Successful: input.Entries.map((e: { Id: string }) => ({ Id: e.Id })), Failed: [] };
    }
    if (command instanceof DeleteMessageCommand) {
      const at = list.findIndex((x) => x.receipt === input.ReceiptHandle);
      if (at >= 0) list.splice(at, 1);
      return {};
    }
    if (command instanceof SendMessageCommand) {
      this.sent.push({
        queueUrl: input.QueueUrl,
        body: input.MessageBody,
        attributes: input.MessageAttributes ?? {},
      });
      return { MessageId: `sent-${++this.seq}` };
    }
    throw new Error(`fake SQS: ${command.constructor.name} not supported`);
  }) as SqsSend['send'];
}
