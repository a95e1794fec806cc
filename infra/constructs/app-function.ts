import { createRequire } from 'node:module';
import * as path from 'node:path';
import { type CfnElement, type Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource, type SqsEventSourceProps } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { STACK_NAME } from '../../shared/resources';
import { LAMBDA_BUNDLING, type LambdaName, lambdaBundling } from '../bundling';

/** Repository root: entry points, package-lock.json and tsconfig.json live here. */
export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');

/** Newest Node.js runtime this aws-cdk-lib knows; bump with aws-cdk-lib. */
export const NODE_RUNTIME = lambda.Runtime.NODEJS_24_X;

/** Dimension `service` of every metric the functions emit (Powertools serviceName). */
export const SERVICE_NAME = 'order-webhooks';

/**
 * The `service` of a stack's functions, metrics and alarms: SERVICE_NAME for the default stack name,
 * else the stack's name, so two stacks in one account and region (staging and production) never
 * count, or alarm on, each other's metrics.
 */
export function serviceNameOf(scope: Construct): string {
  const name = Stack.of(scope).stackName;
  return name === STACK_NAME ? SERVICE_NAME : name;
}

export interface AppFunctionProps {
  /** Entry file relative to the repository root, exporting `handler`. */
  readonly entry: string;
  /** Which function it is: picks its runtime-provided modules (infra/bundling.ts). */
  readonly lambda?: LambdaName;
  readonly description: string;
  readonly memorySize: number;
  readonly timeout: Duration;
  readonly logRetention: logs.RetentionDays;
  readonly tracing: boolean;
  readonly metricsNamespace: string;
}

function assertLocalEsbuild(): void {
  // NodejsFunction silently falls back to Docker when it cannot find esbuild; fail loudly instead.
  try {
    createRequire(path.join(PROJECT_ROOT, 'package.json')).resolve('esbuild');
  } catch {
    throw new Error('esbuild is not installed: run `npm ci` (bundling never uses Docker)');
  }
}

/**
 * A Node.js Lambda with the defaults every function here shares (runtime, arm64, local esbuild
 * bundling with the AWS SDK included, source maps, its own log group and role). The `bind*`
 * methods set an environment variable together with the narrowest grant that goes with it.
 */
export class AppFunction extends Construct {
  readonly fn: nodejs.NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: AppFunctionProps) {
    super(scope, id);
    assertLocalEsbuild();

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // An own role instead of AWSLambdaBasicExecutionRole: writes to this log group only.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${props.description} (execution role)`,
    });
    this.logGroup.grantWrite(this.role);

    this.fn = new nodejs.NodejsFunction(this, 'Function', {
      entry: path.join(PROJECT_ROOT, props.entry),
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
      description: props.description,
      runtime: NODE_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: props.timeout,
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      tracing: props.tracing ? lambda.Tracing.ACTIVE : lambda.Tracing.DISABLED,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: serviceNameOf(this),
        POWERTOOLS_METRICS_NAMESPACE: props.metricsNamespace,
      },
      // One definition, also used to build the bundles the local mode and the e2e test run.
      bundling: props.lambda
        ? lambdaBundling(props.lambda)
        : { ...LAMBDA_BUNDLING, mainFields: [...LAMBDA_BUNDLING.mainFields], externalModules: [] },
    });
    if (props.tracing)
      Validations.of(this.role).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'Only the X-Ray statement (xray:PutTraceSegments, xray:PutTelemetryRecords) uses Resource *: X-Ray has no resource-level permissions.',
      });
  }

  /** Sets a plain setting. */
  setEnv(name: string, value: string): this {
    this.fn.addEnvironment(name, value);
    return this;
  }

  /** `name` = the queue URL; may send to it. */
  bindQueueSender(name: string, queue: sqs.IQueue): this {
    this.fn.addEnvironment(name, queue.queueUrl);
    queue.grantSendMessages(this.fn);
    return this;
  }

  /** `name` = the queue URL; the queue invokes this function (the event source grants consume). */
  bindQueueConsumer(name: string, queue: sqs.IQueue, source: SqsEventSourceProps): this {
    this.fn.addEnvironment(name, queue.queueUrl);
    this.fn.addEventSource(new SqsEventSource(queue, source));
    return this;
  }

  /**
   * `name` = the table name; may call exactly `actions` on it (item-level operations the code
   * makes, rather than grantReadWriteData's Scan, Query and batch writes it never needs).
   */
  bindTable(name: string, table: dynamodb.ITable, actions: readonly `dynamodb:${string}`[]): this {
    this.fn.addEnvironment(name, table.tableName);
    table.grant(this.fn, ...actions);
    return this;
  }

  /**
   * May decrypt with the customer managed KMS key `keyArn`, and only through Secrets Manager in
   * the key's region (kms:ViaService): what reading a secret encrypted with that key needs.
   */
  grantSecretKeyDecrypt(keyArn: string): this {
    const region = keyArn.split(':')[3];
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['kms:Decrypt'],
        resources: [keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${region}.amazonaws.com` } },
      }),
    );
    return this;
  }

  /**
   * `name` = the bucket name; may call exactly these object actions under these key prefixes
   * (bucket.grantPut/grantRead would add tagging, legal hold, ACL and version actions the code
   * never makes). With a KMS key: GenerateDataKey for writes, Decrypt for reads, on that key only.
   */
  bindBucket(
    name: string,
    bucket: s3.IBucket,
    grants: readonly { action: 's3:GetObject' | 's3:PutObject'; prefix: string }[],
    key?: kms.IKey,
  ): this {
    this.fn.addEnvironment(name, bucket.bucketName);
    for (const { action, prefix } of grants) {
      this.fn.addToRolePolicy(
        new iam.PolicyStatement({ actions: [action], resources: [bucket.arnForObjects(`${prefix}*`)] }),
      );
      key?.grant(this.fn, action === 's3:PutObject' ? 'kms:GenerateDataKey' : 'kms:Decrypt');
      // The finding names the bucket as cdk-nag prints it: its logical id, or an attached bucket's ARN.
      const created = bucket.node.defaultChild as CfnElement | undefined;
      const bucketRef = created
        ? `<${Stack.of(this).getLogicalId(created)}.Arn>`
        : `arn:<AWS::Partition>:s3:::${bucket.bucketName}`;
      Validations.of(this.role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${bucketRef}/${prefix}*]`,
        reason: `Archive object keys under ${prefix} name each delivery; the grant is one object action (${action}) on that prefix only.`,
      });
    }
    return this;
  }

  /** `name` = the secret ARN; may read its value. */
  bindSecret(name: string, secret: secretsmanager.ISecret): this {
    this.fn.addEnvironment(name, secret.secretArn);
    secret.grantRead(this.fn);
    return this;
  }
}
