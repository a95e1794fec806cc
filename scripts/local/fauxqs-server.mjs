// Runs the fauxqs SQS emulator bound to loopback only (its own CLI listens on 0.0.0.0).
// fauxqs is ESM-only, so it runs in its own process; that also lets tests stop and restart
// "the queue" independently of the code under test.
import { buildApp } from 'fauxqs';

const port = Number(process.env.FAUXQS_PORT ?? 4566);
const app = buildApp({ logger: false });
await app.listen({ port, host: '127.0.0.1' });
process.stdout.write(`fauxqs listening on ${port}\n`);

const stop = () => {
  app.close().finally(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
