// Runs the fauxqs SQS emulator bound to loopback only (its own CLI listens on 0.0.0.0).
// fauxqs is ESM-only, so it runs in its own process; that also lets tests stop and restart
// "the queue" independently of the code under test.
//
// Optional persistence (the local mode's data folder): with FAUXQS_SNAPSHOT=<file>, the messages of
// every queue (ready, delayed and in flight) are written to that file on a graceful stop, every
// FAUXQS_SNAPSHOT_INTERVAL_MS, and when the parent process dies; on start they are held back and
// put into a queue as soon as a queue of the same name is created again (the local mode re-creates
// its queues with the current settings). In-flight messages come back visible, with their receive
// count, exactly as if their visibility timeout had expired.
//
// S3 (fauxqs serves it on the same port): with FAUXQS_S3_DIR=<dir>, buckets and objects are kept in
// that folder as they are written (one body file and one metadata file per object, the key
// URI-encoded into the file name) and loaded again on start, so the local archive outlives restarts.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildApp } from 'fauxqs';

// SqsStore is not in fauxqs's package exports; it is the same module buildApp uses internally.
const { SqsStore } = await import(new URL('./sqs/sqsStore.js', import.meta.resolve('fauxqs')).href);

const port = Number(process.env.FAUXQS_PORT ?? 4566);
const snapshotFile = process.env.FAUXQS_SNAPSHOT || undefined;
const snapshotIntervalMs = Number(process.env.FAUXQS_SNAPSHOT_INTERVAL_MS ?? 0);

const { S3Store } = await import(new URL('./s3/s3Store.js', import.meta.resolve('fauxqs')).href);
const s3Dir = process.env.FAUXQS_S3_DIR || undefined;
const s3Store = new S3Store();
if (s3Dir) persistS3(s3Store, s3Dir);

/** Loads `dir` into the store, then mirrors every bucket and object write there. */
function persistS3(store, dir) {
  mkdirSync(dir, { recursive: true });
  const file = (bucket, key, ext) => path.join(dir, bucket, `${encodeURIComponent(key)}.${ext}`);
  for (const bucket of readdirSync(dir)) {
    if (!statSync(path.join(dir, bucket)).isDirectory()) continue;
    store.createBucket(bucket);
    for (const name of readdirSync(path.join(dir, bucket))) {
      if (!name.endsWith('.body')) continue;
      const key = decodeURIComponent(name.slice(0, -'.body'.length));
      try {
        const meta = JSON.parse(readFileSync(file(bucket, key, 'meta'), 'utf8'));
        const object = store.putObject(
          bucket,
          key,
          readFileSync(file(bucket, key, 'body')),
          meta.contentType,
          meta.metadata,
        );
        object.lastModified = new Date(meta.lastModified ?? Date.now());
      } catch (error) {
        process.stderr.write(`fauxqs: skipping unreadable object ${bucket}/${key}: ${error.message}\n`);
      }
    }
  }
  const write = (target, data) => {
    const tmp = `${target}.tmp`;
    writeFileSync(tmp, data);
    renameSync(tmp, target);
  };
  const save = (bucket, object) => {
    write(file(bucket, object.key, 'body'), object.body);
    const meta = {
      contentType: object.contentType,
      metadata: object.metadata,
      lastModified: object.lastModified,
    };
    write(file(bucket, object.key, 'meta'), JSON.stringify(meta));
  };
  const createBucket = store.createBucket.bind(store);
  store.createBucket = (name) => {
    createBucket(name);
    mkdirSync(path.join(dir, name), { recursive: true });
  };
  const putObject = store.putObject.bind(store);
  store.putObject = (bucket, key, ...rest) => {
    const object = putObject(bucket, key, ...rest);
    save(bucket, object);
    return object;
  };
  const completeMultipartUpload = store.completeMultipartUpload.bind(store);
  store.completeMultipartUpload = (uploadId, parts) => {
    const bucket = store.multipartUploads.get(uploadId)?.bucket;
    const object = completeMultipartUpload(uploadId, parts);
    if (bucket) save(bucket, object);
    return object;
  };
  const deleteObject = store.deleteObject.bind(store);
  store.deleteObject = (bucket, key) => {
    deleteObject(bucket, key);
    for (const ext of ['body', 'meta']) rmSync(file(bucket, key, ext), { force: true });
  };
  const deleteObjects = store.deleteObjects.bind(store);
  store.deleteObjects = (bucket, keys) => {
    const deleted = deleteObjects(bucket, keys);
    for (const key of deleted)
      for (const ext of ['body', 'meta']) rmSync(file(bucket, key, ext), { force: true });
    return deleted;
  };
}

const sqsStore = new SqsStore();
/** Messages read from the snapshot whose queue has not been created again yet, by queue name. */
const pending = new Map();

if (snapshotFile) {
  try {
    const saved = JSON.parse(readFileSync(snapshotFile, 'utf8'));
    for (const queue of saved.queues ?? []) pending.set(queue.name, queue.messages ?? []);
  } catch (error) {
    if (error.code !== 'ENOENT')
      process.stderr.write(`fauxqs: ignoring unreadable snapshot: ${error.message}\n`);
  }
  const createQueue = sqsStore.createQueue.bind(sqsStore);
  sqsStore.createQueue = (name, ...rest) => {
    const queue = createQueue(name, ...rest);
    const messages = pending.get(name);
    if (messages) {
      pending.delete(name);
      for (const message of messages) queue.enqueue(message);
    }
    return queue;
  };
}

function writeSnapshot() {
  if (!snapshotFile) return;
  const queues = [];
  for (const queue of sqsStore.listQueues()) {
    const { ready, delayed, inflight } = queue.inspectMessages();
    const messages = [...inflight.map((entry) => entry.message), ...ready, ...delayed];
    queues.push({ name: queue.name, messages });
  }
  for (const [name, messages] of pending) queues.push({ name, messages });
  const tmp = `${snapshotFile}.tmp`;
  writeFileSync(tmp, JSON.stringify({ savedAt: new Date().toISOString(), queues }));
  renameSync(tmp, snapshotFile);
}

const app = buildApp({ logger: false, stores: { sqsStore, s3Store } });

// S3 conditional writes, which fauxqs ignores: a PutObject with `If-None-Match: *` whose key exists
// answers 412 PreconditionFailed, as S3 does (the archive's write-once raw objects rely on it).
app.addHook('onRequest', async (request, reply) => {
  if (request.method !== 'PUT' || request.headers['if-none-match'] !== '*') return;
  const [bucket, ...rest] = decodeURIComponent(request.url.split('?')[0] ?? '')
    .replace(/^\//, '')
    .split('/');
  const key = rest.join('/');
  if (!bucket || !key) return;
  let exists = false;
  try {
    exists = Boolean(s3Store.getObject(bucket, key));
  } catch {
    exists = false;
  }
  if (!exists) return;
  reply
    .status(412)
    .header('content-type', 'application/xml')
    .send(
      '<?xml version="1.0" encoding="UTF-8"?><Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message><Condition>If-None-Match</Condition></Error>',
    );
});
await app.listen({ port, host: '127.0.0.1' });
process.stdout.write(`fauxqs listening on ${port}\n`);

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  try {
    writeSnapshot();
  } catch (error) {
    process.stderr.write(`fauxqs: snapshot failed: ${error.message}\n`);
  }
  app.close().finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
// The local mode runs us in our own process group and stops us with SIGTERM after its worker has
// drained; a terminal's Ctrl-C must not take the queue away from in-flight batches first.
if (process.env.FAUXQS_IGNORE_SIGINT === '1') process.on('SIGINT', () => {});
else process.on('SIGINT', stop);

if (snapshotFile && snapshotIntervalMs > 0) setInterval(writeSnapshot, snapshotIntervalMs).unref();

// When the parent dies without stopping us (kill -9), we are re-parented: save and leave, so no
// emulator outlives the local mode and the queue's contents survive the crash.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) stop();
}, 250).unref();
