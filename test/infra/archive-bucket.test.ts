import { Match, type Template } from 'aws-cdk-lib/assertions';
import { ARCHIVE_DEFAULTS } from '../../shared/resources';
import { buildStack } from './build-stack';

type Resources = Record<
  string,
  { Type: string; Properties: Record<string, unknown>; DeletionPolicy?: string }
>;
type Statement = { Action: string | string[]; Resource: unknown; Effect: string; Condition?: unknown };

const KMS_KEY = 'arn:aws:kms:us-east-1:123456789012:key/1111-2222';

function bucketOf(template: Template) {
  const buckets = Object.entries(template.findResources('AWS::S3::Bucket') as Resources);
  expect(buckets).toHaveLength(1);
  const [id, resource] = buckets[0] as [string, Resources[string]];
  return { id, resource, props: resource.Properties };
}

/** Statements of a function's role policy (matched by the function's description prefix). */
function statementsOf(template: Template, description: string): Statement[] {
  const fns = template.findResources('AWS::Lambda::Function', {
    Properties: { Description: Match.stringLikeRegexp(`^${description}`) },
  }) as Resources;
  const fn = Object.values(fns)[0] as Resources[string];
  const roleId = (fn.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  const policies = template.findResources('AWS::IAM::Policy', {
    Properties: { Roles: [{ Ref: roleId }] },
  }) as Resources;
  return Object.values(policies).flatMap(
    (p) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement,
  );
}

/** `action -> [prefix]` for statements on the archive bucket's objects. */
function s3Grants(statements: Statement[], bucketId: string): Record<string, string[]> {
  const grants: Record<string, string[]> = {};
  for (const s of statements) {
    const text = JSON.stringify(s.Resource);
    if (!text.includes(bucketId)) continue;
    const prefix = /"\/([a-z]+\/)\*"/.exec(text)?.[1] ?? text;
    for (const action of [s.Action].flat()) grants[action] = [...(grants[action] ?? []), prefix];
  }
  for (const list of Object.values(grants)) list.sort();
  return grants;
}

describe('archive bucket', () => {
  const { template } = buildStack();
  const bucket = bucketOf(template);

  it('encrypts with S3-managed keys, blocks all public access and is retained on stack deletion', () => {
    expect(bucket.props.BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
    });
    expect(bucket.props.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(bucket.resource.DeletionPolicy).toBe('Retain');
  });

  it('denies every request that is not over TLS', () => {
    const policy = Object.values(template.findResources('AWS::S3::BucketPolicy') as Resources)[0];
    const statements = (policy?.Properties.PolicyDocument as { Statement: Statement[] } | undefined)
      ?.Statement;
    expect(statements).toContainEqual(
      expect.objectContaining({
        Effect: 'Deny',
        Action: 's3:*',
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      }),
    );
  });

  it('expires raw objects after 400 days and moves only those over 128 KB to Infrequent Access (S3 moves no smaller one); claims after 30', () => {
    const rules = (bucket.props.LifecycleConfiguration as { Rules: Record<string, unknown>[] }).Rules;
    const rule = (id: string) => rules.find((r) => r.Id === id);
    expect(rule('raw')).toMatchObject({ Prefix: 'raw/', Status: 'Enabled', ExpirationInDays: 400 });
    expect(rule('raw')?.Transitions).toBeUndefined();
    expect(rule('raw-large-to-ia')).toMatchObject({
      Prefix: 'raw/',
      Status: 'Enabled',
      ObjectSizeGreaterThan: 128 * 1024,
      Transitions: [{ StorageClass: 'STANDARD_IA', TransitionInDays: 30 }],
    });
    expect(rule('claim')).toMatchObject({
      Prefix: 'claim/',
      ExpirationInDays: ARCHIVE_DEFAULTS.claimRetentionDays,
    });
  });

  it('grants exactly: ingest PutObject on claim/; worker GetObject on claim/, PutObject on raw/', () => {
    expect(s3Grants(statementsOf(template, 'order-webhooks ingest'), bucket.id)).toEqual({
      's3:PutObject': ['claim/'],
    });
    expect(s3Grants(statementsOf(template, 'order-webhooks worker'), bucket.id)).toEqual({
      's3:GetObject': ['claim/'],
      's3:PutObject': ['raw/'],
    });
  });

  it('tells both functions the bucket name and outputs it for the CLI', () => {
    for (const description of ['order-webhooks ingest', 'order-webhooks worker'])
      template.hasResourceProperties('AWS::Lambda::Function', {
        Description: Match.stringLikeRegexp(`^${description}`),
        Environment: { Variables: Match.objectLike({ ARCHIVE_BUCKET: { Ref: bucket.id } }) },
      });
    template.hasOutput('ArchiveBucketName', { Value: { Ref: bucket.id } });
  });
});

describe('archive bucket with a KMS key and a retention set', () => {
  const { template } = buildStack({ archiveKmsKeyArn: KMS_KEY, archiveRetentionDays: '731' });
  const bucket = bucketOf(template);

  it('encrypts with the given key (bucket key on) and expires after the given days', () => {
    expect(bucket.props.BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [
        {
          ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: KMS_KEY },
          BucketKeyEnabled: true,
        },
      ],
    });
    const rules = (bucket.props.LifecycleConfiguration as { Rules: Record<string, unknown>[] }).Rules;
    expect(rules.find((r) => r.Id === 'raw')).toMatchObject({ ExpirationInDays: 731 });
  });

  it('lets the ingest generate data keys and the worker also decrypt, on that key only', () => {
    const kmsActions = (description: string) =>
      statementsOf(template, description)
        .filter((s) => JSON.stringify(s.Resource) === JSON.stringify(KMS_KEY))
        .flatMap((s) => [s.Action].flat())
        .sort();
    expect(kmsActions('order-webhooks ingest')).toEqual(['kms:GenerateDataKey']);
    expect([...new Set(kmsActions('order-webhooks worker'))]).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
  });
});
