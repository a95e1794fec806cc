import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import {
  CloudFormationClient,
  CreateStackCommand,
  DeleteStackCommand,
  DescribeStacksCommand,
} from '@aws-sdk/client-cloudformation';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { ListBucketsCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { markerParameterName } from '../../infra/order-webhooks-stack';
import { LedgerOrderSystem } from '../../shared/order-system/ledger';
import type { CreateOrderInput } from '../../shared/order-system/types';
import { STACK_NAME } from '../../shared/resources';
import { buildStack } from './build-stack';

/*
 * Deploy, destroy, deploy again: the stateful part of the synthesized template (what is retained, and
 * the markers guarding it) deployed to moto's CloudFormation, a maintained AWS emulator that keeps
 * retained resources on delete and refuses an SSM parameter whose name exists, as AWS does. The rest
 * of the stack (functions, API) holds nothing that survives and is read from the templates.
 */

type Resource = {
  Type: string;
  Properties?: Record<string, unknown>;
  DependsOn?: string[];
  DeletionPolicy?: string;
};
type TemplateJson = { Resources: Record<string, Resource>; Outputs: Record<string, { Value: unknown }> };

const synth = (context: Record<string, unknown> = {}) =>
  buildStack(context).template.toJSON() as TemplateJson;

/** What `cdk destroy` leaves behind: the retained resources (and the marker parameters guarding them). */
function retainedPart(template: TemplateJson) {
  const kept = Object.entries(template.Resources).filter(([, r]) => r.DeletionPolicy === 'Retain');
  const ids = new Set(kept.map(([id]) => id));
  return {
    Resources: Object.fromEntries(
      kept.map(([id, r]) => [id, { ...r, DependsOn: (r.DependsOn ?? []).filter((d) => ids.has(d)) }]),
    ),
  };
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('deploy, destroy, deploy again (moto CloudFormation)', () => {
  let moto: ChildProcess;
  let endpoint: string;
  let cfn: CloudFormationClient;
  let dynamo: DynamoDBClient;
  let s3: S3Client;

  beforeAll(async () => {
    const port = await freePort();
    moto = spawn('python3', ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], {
      stdio: 'ignore',
    });
    endpoint = `http://127.0.0.1:${port}`;
    const config = {
      endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    };
    cfn = new CloudFormationClient(config);
    dynamo = new DynamoDBClient(config);
    s3 = new S3Client({ ...config, forcePathStyle: true });
    await until('moto', async () => (await fetch(`${endpoint}/moto-api/`)).ok || undefined);
  }, 90_000);
  afterAll(async () => {
    for (const client of [cfn, dynamo, s3]) client?.destroy();
    if (moto && moto.exitCode === null) {
      const exited = new Promise((resolve) => moto.once('exit', resolve));
      moto.kill();
      await exited;
    }
  });

  const stackStatus = async () =>
    (await cfn.send(new DescribeStacksCommand({ StackName: STACK_NAME }))).Stacks?.[0]?.StackStatus;
  const tables = async () => (await dynamo.send(new ListTablesCommand({}))).TableNames ?? [];
  const buckets = async () => ((await s3.send(new ListBucketsCommand({}))).Buckets ?? []).map((b) => b.Name);
  const order = (orderId: string) =>
    ({ ref: { provider: 'recharge', orderId } }) as unknown as CreateOrderInput;

  it('keeps the ledger and the archive, refuses a second ledger, and carries on numbering and archiving when reattached', async () => {
    // 1. First deploy; two orders numbered from orderNumberStart; one archived webhook.
    const first = synth();
    await cfn.send(
      new CreateStackCommand({ StackName: STACK_NAME, TemplateBody: JSON.stringify(retainedPart(first)) }),
    );
    await until('the first deploy', async () =>
      (await stackStatus()) === 'CREATE_COMPLETE' ? true : undefined,
    );
    const [ordersTable] = await tables();
    const [archiveBucket] = await buckets();
    expect(ordersTable).toMatch(/^OrderWebhooks-OrdersTable/);
    expect(archiveBucket).toBeDefined();
    const ledger = new LedgerOrderSystem(dynamo, ordersTable as string, 1001);
    expect((await ledger.createOrder(order('1'))).number).toBe('1001');
    expect((await ledger.createOrder(order('2'))).number).toBe('1002');
    await s3.send(new PutObjectCommand({ Bucket: archiveBucket, Key: 'raw/first-month.json', Body: '{}' }));

    // 2. cdk destroy: the ledger, the archive and their markers stay (and only they hold data).
    await cfn.send(new DeleteStackCommand({ StackName: STACK_NAME }));
    await until('the destroy', async () =>
      (await stackStatus().catch(() => 'gone')) === 'gone' || (await stackStatus()) === 'DELETE_COMPLETE'
        ? true
        : undefined,
    );
    expect(await tables()).toEqual([ordersTable]);
    expect(await buckets()).toEqual([archiveBucket]);

    // 3. A plain second deploy (no reattach settings) fails on the retained markers before it creates
    //    a table or a bucket: numbering cannot restart at 1001 in a new, empty ledger.
    const plain = synth();
    expect(retainedPart(plain)).toEqual(retainedPart(first));
    const failed = await cfn
      .send(
        new CreateStackCommand({ StackName: STACK_NAME, TemplateBody: JSON.stringify(retainedPart(plain)) }),
      )
      .then(
        () =>
          until('the failed deploy', async () =>
            (await stackStatus())?.match(/FAILED|ROLLBACK/) ? 'failed' : undefined,
          ),
        (error: Error) => error.name,
      );
    expect(failed).toMatch(/ParameterAlreadyExists|failed/);
    expect(await tables()).toEqual([ordersTable]);
    expect(await buckets()).toEqual([archiveBucket]);

    // 4. Deploy with the documented settings: nothing stateful is created, the functions and the
    //    CLI's outputs point at the retained ledger and archive; numbering and the archive carry on.
    const reattached = synth({
      existingOrdersTableName: ordersTable,
      existingArchiveBucketName: archiveBucket,
    });
    expect(retainedPart(reattached).Resources).toEqual({});
    const env = (description: string) =>
      Object.values(reattached.Resources).find(
        (r) =>
          r.Type === 'AWS::Lambda::Function' && String(r.Properties?.Description).startsWith(description),
      )?.Properties?.Environment as { Variables: Record<string, unknown> };
    expect(env('order-webhooks worker').Variables).toMatchObject({
      ORDERS_TABLE: ordersTable,
      ARCHIVE_BUCKET: archiveBucket,
      ORDER_NUMBER_START: '1001',
    });
    expect(env('order-webhooks reconcile').Variables.ORDERS_TABLE).toBe(ordersTable);
    expect(env('order-webhooks ingest').Variables.ARCHIVE_BUCKET).toBe(archiveBucket);
    // `order-webhooks archive/replay --aws` read ARCHIVE_BUCKET from this output (scripts/cli/stack.ts).
    expect(reattached.Outputs.ArchiveBucketName?.Value).toBe(archiveBucket);
    expect(reattached.Outputs.OrdersTableName?.Value).toBe(ordersTable);
    const again = new LedgerOrderSystem(
      dynamo,
      String(env('order-webhooks worker').Variables.ORDERS_TABLE),
      1001,
    );
    expect((await again.createOrder(order('3'))).number).toBe('1003');
    const archived = await s3.send(
      new ListObjectsV2Command({ Bucket: String(reattached.Outputs.ArchiveBucketName?.Value) }),
    );
    expect(archived.Contents?.map((o) => o.Key)).toEqual(['raw/first-month.json']);
  }, 180_000);

  it('names the markers from the stack name, so every deploy of the stack collides with a retained one', () => {
    const names = (template: TemplateJson) =>
      Object.values(template.Resources)
        .filter((r) => r.Type === 'AWS::SSM::Parameter')
        .map((r) => r.Properties?.Name)
        .sort();
    expect(names(synth())).toEqual([
      markerParameterName(STACK_NAME, 'archive-bucket'),
      markerParameterName(STACK_NAME, 'orders-table'),
    ]);
    expect(
      names(synth({ apiType: 'rest', orderSystem: 'http', orderSystemUrl: 'https://o.example.com' })),
    ).toEqual(names(synth()));
    // Each retained resource waits for its marker: a refused marker stops it being created.
    const template = synth();
    const markerOf = (type: string) =>
      Object.values(template.Resources).find((r) => r.Type === type && r.DeletionPolicy === 'Retain')
        ?.DependsOn;
    expect(markerOf('AWS::DynamoDB::Table')).toEqual([expect.stringMatching(/^OrdersTableMarker/)]);
    expect(markerOf('AWS::S3::Bucket')).toEqual([expect.stringMatching(/^ArchiveBucketMarker/)]);
  });
});
