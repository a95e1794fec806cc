import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { TransientError } from '../errors';
import { type QueuedWebhook, toSendMessageInput } from './message';

export interface SqsClientOptions {
  region?: string | undefined;
  /** Local emulator endpoint (SQS_ENDPOINT); omitted in AWS. */
  endpoint?: string | undefined;
  /** Whole budget of one send; bounds connection and request timeouts. */
  timeoutMs: number;
  /** Local/test credentials; in AWS the default provider chain is used. */
  credentials?: { accessKeyId: string; secretAccessKey: string } | undefined;
}

/**
 * An SQS client whose every call fits inside `timeoutMs`: short connect and request timeouts and
 * two attempts at most (the provider retries the webhook anyway, so SDK retries only need to
 * cover a blip). Create it once per cold start.
 */
export function makeSqsClient(options: SqsClientOptions): SQSClient {
  const budget = options.timeoutMs;
  return new SQSClient({
    region: options.region,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    maxAttempts: 2,
    requestHandler: {
      connectionTimeout: Math.max(10, Math.floor(budget / 3)),
      requestTimeout: budget,
    },
  });
}

export interface SqsSender {
  /** Resolves once SQS accepted the message; throws TransientError otherwise (failure, timeout, abort). */
  send(webhook: QueuedWebhook, signal?: AbortSignal): Promise<void>;
}

/**
 * A queue port over SendMessage. The call is aborted after `timeoutMs` (and earlier when the
 * caller's `signal` aborts), so a hung SQS endpoint can never hold a webhook answer.
 */
export function makeSqsSender(client: SQSClient, queueUrl: string, timeoutMs: number): SqsSender {
  return {
    async send(webhook, signal) {
      const timeout = AbortSignal.timeout(timeoutMs);
      const abortSignal = signal ? AbortSignal.any([signal, timeout]) : timeout;
      try {
        const result = await client.send(new SendMessageCommand(toSendMessageInput(queueUrl, webhook)), {
          abortSignal,
        });
        if (!result.MessageId) throw new Error('SendMessage returned no MessageId');
      } catch (error) {
        if (error instanceof TransientError) throw error;
        const reason = abortSignal.aborted ? 'timed out or aborted' : 'failed';
        throw new TransientError(`SendMessage ${reason}`, { cause: error });
      }
    },
  };
}
