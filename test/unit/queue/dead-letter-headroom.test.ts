import type { SQSRecord } from 'aws-lambda';
import { deadLetterAttributes } from '#shared/queue/dlq';
import {
  DEAD_LETTER_HEADROOM_BYTES,
  messageSizeBytes,
  type QueuedWebhook,
  sqsMessageBytes,
  toMessageAttributes,
} from '#shared/queue/message';
import { QUEUE_DEFAULTS } from '#shared/resources';

const LIMIT = QUEUE_DEFAULTS.maximumMessageSizeBytes;

describe('dead-letter headroom', () => {
  it('lets the largest webhook the ingest accepts reach the dead-letter queue with a worst-case reason', () => {
    const meta = {
      provider: 'wix-cashier-pay',
      topic: 'SUBSCRIPTION_STATUS_CHANGE',
      deliveryKey: `wix-cashier-pay:${'f'.repeat(64)}`,
      receivedAt: '2026-11-22T20:00:00.000Z',
      verification: 'wix-jwt-rs256',
    } as const;
    const overhead = messageSizeBytes({ ...meta, body: '' });
    // The largest message the ingest still queues: everything up to the headroom.
    const webhook: QueuedWebhook = {
      ...meta,
      body: 'x'.repeat(LIMIT - DEAD_LETTER_HEADROOM_BYTES - overhead),
    };
    expect(messageSizeBytes(webhook) + DEAD_LETTER_HEADROOM_BYTES).toBe(LIMIT);

    const lambdaShape: SQSRecord['messageAttributes'] = Object.fromEntries(
      Object.entries(toMessageAttributes(webhook)).map(([name, v]) => [
        name,
        { dataType: v.DataType ?? 'String', stringValue: v.StringValue },
      ]),
    );
    const attributes = deadLetterAttributes(lambdaShape, {
      failureClass: 'permanent',
      reason: '€'.repeat(1000), // three bytes a character, cut to the longest reason kept
      step: 'recharge-put-charge-after-order-created-step',
      failedAt: '2026-11-22T20:00:00.000Z',
    });

    expect(sqsMessageBytes(webhook.body, attributes)).toBeLessThanOrEqual(LIMIT);
  });
});
