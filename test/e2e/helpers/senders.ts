import { Agent, request } from 'node:http';
import type { Post } from './webhooks';

/**
 * A fixed set of keep-alive connections for a benchmark's concurrent senders: exactly `count`
 * sockets, all opened by `connect()` before the measured burst, so every request of the burst
 * runs on a warm connection whatever happened before it.
 *
 * Why not fetch's global pool: its idle sockets expire 3 s after their last answer (the server's
 * `Keep-Alive: timeout=5` hint minus undici's 2 s margin), and it grows beyond the number of
 * senders. A burst that starts after a longer pause (bench:e2e waits for the warm-up to drain,
 * which takes > 3 s only when ReCharge is slow) then opens all its connections at once, and a
 * Node server accepts one new connection per event-loop turn: the local mode, whose loop also
 * runs the worker, took up to ~2-3 s to accept the last of 50, which showed up as ack latency.
 */
export interface Senders {
  readonly post: Post;
  /** Opens all `count` connections (requests the gateway answers itself: no handler, no queue). */
  connect(): Promise<void>;
  close(): void;
}

export function openSenders(apiUrl: string, count: number): Senders {
  const agent = new Agent({ keepAlive: true, maxSockets: count });
  const send = (method: 'GET' | 'POST', url: string, headers: Record<string, string>, body?: string) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(url, { agent, method, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  return {
    post: (url, headers, body) =>
      send('POST', url, { ...headers, 'content-length': String(Buffer.byteLength(body)) }, body),
    async connect() {
      // All at once, so the agent opens one socket per request; an unknown route is answered by
      // the API Gateway layer (HTTP API 404, REST 403) without invoking the ingest.
      await Promise.all(Array.from({ length: count }, () => send('GET', `${apiUrl}/`, {})));
    },
    close: () => agent.destroy(),
  };
}
