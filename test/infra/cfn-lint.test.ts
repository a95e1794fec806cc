import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ALL_FEATURES, buildStack } from './build-stack';

/*
 * cfn-lint (the CloudFormation linter, on the machine image; offline: it reads its bundled resource
 * schemas) over the synthesized templates of both API types and every option. Any error or warning
 * fails, and two informational checks that guard data: I3013 (a retention left at its default, the
 * way a queue loses messages) and I3011 (a stateful resource without deletion and replace policies).
 * One warning is ignored: W3005, the DependsOn CDK itself adds beside a GetAtt (a function on its role).
 * One cfn-lint run for all templates: each run costs about 10 s of start-up.
 */
const CFN_LINT = process.env.CFN_LINT ?? 'cfn-lint';
const ARGS = ['--format', 'json', '--include-checks', 'I3013', 'I3011', '--ignore-checks', 'W3005', '--'];
const INSTALL =
  'cfn-lint is not installed: install it with `pipx install cfn-lint==1.51.0` (or `pip install cfn-lint==1.51.0`), or set CFN_LINT to its path';

interface Finding {
  Filename: string;
  Rule: { Id: string };
  Level: string;
  Message: string;
  Location: { Path: (string | number)[] };
}

function lint(files: string[], binary = CFN_LINT): Finding[] {
  // stdin closed: cfn-lint reads a template from stdin when it is a pipe.
  const run = spawnSync(binary, [...ARGS, ...files], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if ((run.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') throw new Error(INSTALL);
  if (run.error) throw run.error;
  // Exit codes: 0 clean; bit 2 errors, 4 warnings, 8 informational; anything else is cfn-lint failing.
  if ((run.status ?? 1) & ~(2 | 4 | 8) || (run.status !== 0 && run.stdout.trim() === ''))
    throw new Error(`cfn-lint failed (exit ${run.status}): ${run.stderr}`);
  return JSON.parse(run.stdout || '[]') as Finding[];
}

const readable = (findings: Finding[]) =>
  findings.map((f) => `${f.Rule.Id} ${f.Level} ${f.Location.Path.join('/')}: ${f.Message}`);

describe('cfn-lint on the synthesized templates', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'cfn-lint-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const variants: [string, Record<string, unknown>][] = [
    ['default (HTTP API)', {}],
    ['apiType rest', { apiType: 'rest' }],
    ['every option (REST API with WAF)', ALL_FEATURES],
    [
      'HTTP API with a custom domain and reattached data',
      {
        ...ALL_FEATURES,
        apiType: 'http',
        wafWebAclArn: undefined,
        existingOrdersTableName: 'OrderWebhooks-OrdersTable1A2B3C-XYZ',
        existingArchiveBucketName: 'orderwebhooks-archivebucket1a2b3c-xyz',
      },
    ],
  ];

  const fileOf = (name: string) => path.join(dir, `${name.replace(/\W+/g, '-')}.json`);
  const synthesized = path.resolve(__dirname, '../../cdk.out/OrderWebhooks.template.json');
  let findings: Finding[];
  beforeAll(() => {
    for (const [name, context] of variants)
      writeFileSync(fileOf(name), JSON.stringify(buildStack(context).template.toJSON()));
    // The default retention on the main queue, as the stack had it: the linter must see it.
    const template = buildStack().template.toJSON() as {
      Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
    };
    const queue = Object.values(template.Resources).find(
      (r) => r.Type === 'AWS::SQS::Queue' && r.Properties.RedrivePolicy,
    );
    delete queue?.Properties.MessageRetentionPeriod;
    writeFileSync(fileOf('default retention'), JSON.stringify(template));
    // `npm test` synthesizes first (cdk.out, bundled); a lone jest run may not have.
    const files = [...variants.map(([name]) => fileOf(name)), fileOf('default retention')];
    findings = lint(existsSync(synthesized) ? [...files, synthesized] : files);
  }, 180_000);

  it.each(variants)('finds nothing in the template with %s', (name) => {
    expect(readable(findings.filter((f) => f.Filename === fileOf(name)))).toEqual([]);
  });

  it('finds nothing in the template `npm run synth` wrote (cdk.out), when there is one', () => {
    expect(readable(findings.filter((f) => f.Filename === synthesized))).toEqual([]);
  });

  it('would fail on a queue left at the default 4-day retention (the linter is really run)', () => {
    expect(findings.filter((f) => f.Filename === fileOf('default retention')).map((f) => f.Rule.Id)).toEqual([
      'I3013',
    ]);
  });

  it('fails with the command to install cfn-lint when it is missing', () => {
    expect(() => lint([path.join(dir, 'any.json')], 'cfn-lint-not-installed-here')).toThrow(
      /pipx install cfn-lint==1\.51\.0/,
    );
  });
});
