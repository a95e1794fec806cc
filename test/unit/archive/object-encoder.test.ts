import { gunzipSync } from 'node:zlib';
import { type ArchivedWebhook, decodeObject, ObjectEncoder } from '../../../shared/archive/archive';

const webhook = (body: string, deliveryKey = 'sevi:k'): ArchivedWebhook => ({
  provider: 'sevi',
  topic: 'order.paid',
  deliveryKey,
  receivedAt: '2026-12-06T10:00:00.000Z',
  verification: 'sevi-token',
  body,
});

async function encode(webhooks: ArchivedWebhook[]): Promise<Buffer> {
  const encoder = new ObjectEncoder();
  const lines = webhooks.map((w) => encoder.write(w).line);
  expect(lines).toEqual(webhooks.map((_, i) => i));
  return encoder.finish();
}

describe('archive object encoder (bodies written in pieces)', () => {
  it('keeps a body byte for byte when a piece boundary falls inside a surrogate pair', async () => {
    // 65,535 ASCII characters then an emoji: the pair straddles the first 65,536-character piece.
    const body = `${'a'.repeat(65_535)}😀"\\\n\u2028${'✓'.repeat(70_000)}😀`;

    const bytes = await encode([webhook(body)]);

    expect(gunzipSync(bytes).toString('utf8')).toBe(JSON.stringify(webhook(body)));
    expect(Buffer.from(decodeObject(bytes)[0]?.body ?? '').equals(Buffer.from(body))).toBe(true);
  });

  it('writes lines that parse as JSON.stringify would, in the order they were added', async () => {
    const webhooks = [webhook('{"a":1}', 'k1'), webhook('', 'k2'), webhook('x'.repeat(200_000), 'k3')];

    const bytes = await encode(webhooks);

    expect(gunzipSync(bytes).toString('utf8')).toBe(webhooks.map((w) => JSON.stringify(w)).join('\n'));
    expect(decodeObject(bytes)).toEqual(webhooks);
  });
});
