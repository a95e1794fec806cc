import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { makeHandler as makeIngestHandler } from '../../functions/ingest/handler';
import { SETTING_KEYS, stackSettingsSchema } from '../../infra/settings';
import { ARCHIVE_HELP } from '../../scripts/cli/archive';
import { alarmKey } from '../../scripts/cli/doctor-alarms';
import { MIN_WORKER_TIMEOUT_SECONDS } from '../../scripts/local/preflight';
import {
  ingestEnvSchema,
  parseEnv,
  reconcileEnvSchema,
  SECRET_KEYS,
  workerEnvSchema,
} from '../../shared/config';
import { STACK_NAME } from '../../shared/resources';
import { fakeDeps, proxyEvent, rechargeSignatureHeader, testSecrets } from '../support/signing';
import { ALL_FEATURES, buildStack } from './build-stack';

/*
 * The docs state things about the product; these checks read the docs' tables and compare them with
 * the code and the synthesized stack, so a setting, alarm, command or folder added without its doc
 * line (or a doc line left behind) fails here with its name.
 */

const ROOT = path.resolve(__dirname, '../..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');
const DOC_FILES = ['README.md', ...readdirSync(path.join(ROOT, 'docs')).map((f) => `docs/${f}`)].filter((f) =>
  f.endsWith('.md'),
);

/** The section of `doc` under the heading whose text starts with `heading`, up to the next heading of its level or above. */
function section(doc: string, heading: string): string {
  const lines = doc.split('\n');
  const start = lines.findIndex((line) => /^#+ /.test(line) && line.replace(/^#+ /, '').startsWith(heading));
  if (start < 0) throw new Error(`no heading "${heading}"`);
  const level = (lines[start] as string).indexOf(' ');
  const end = lines.findIndex((line, i) => i > start && /^#+ /.test(line) && line.indexOf(' ') <= level);
  return lines.slice(start + 1, end < 0 ? undefined : end).join('\n');
}

/** The body rows of the first Markdown table in `text`, as cells. */
/** The rows of the first table in `text`, or of the first whose header row starts with `header`. */
function tableRows(text: string, header?: string): string[][] {
  const lines = text.split('\n');
  const first = lines.findIndex(
    (line) => line.startsWith('|') && (header === undefined || line.startsWith(`| ${header}`)),
  );
  const rows: string[][] = [];
  for (let i = first + 2; i < lines.length && (lines[i] as string).startsWith('|'); i++)
    rows.push(
      (lines[i] as string)
        .slice(1, -1)
        .split(/(?<!\\)\|/)
        .map((cell) => cell.trim()),
    );
  return rows;
}

/** The `code` spans of a cell. */
const codeSpans = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1] as string);

function duplicates(names: string[]): string[] {
  return names.filter((name, i) => names.indexOf(name) !== i);
}

describe('configuration.md matches the settings the code reads', () => {
  const doc = read('docs/configuration.md');
  const envRows = tableRows(section(doc, 'Function environment'));
  const envNames = envRows.flatMap((row) => codeSpans(row[0] as string));
  const schemaKeys = new Set(
    [ingestEnvSchema, workerEnvSchema, reconcileEnvSchema].flatMap((schema) => Object.keys(schema.shape)),
  );
  /** Read by the code but set by Lambda or the tests, never by an operator. */
  const NOT_OPERATOR_SETTINGS = new Set(['AWS_REGION', 'AWS_CALL_RECORD_FILE']);
  const localSources = readdirSync(path.join(ROOT, 'scripts/local'))
    .map((file) => read(`scripts/local/${file}`))
    .join('\n');

  it('lists each environment variable once', () => {
    expect(envNames.length).toBeGreaterThan(20);
    expect(duplicates(envNames)).toEqual([]);
  });

  it('documents every variable the functions read', () => {
    const missing = [...schemaKeys].filter(
      (key) => !NOT_OPERATOR_SETTINGS.has(key) && !doc.includes(`\`${key}\``),
    );
    expect(missing).toEqual([]);
  });

  it('lists only variables the functions or the local mode read', () => {
    // Read by a library the functions use, set by the stack.
    const LIBRARY_VARIABLES = new Set(['POWERTOOLS_LOG_LEVEL']);
    const unknown = envNames.filter(
      (name) => !schemaKeys.has(name) && !localSources.includes(name) && !LIBRARY_VARIABLES.has(name),
    );
    expect(unknown).toEqual([]);
  });

  it('gives the default the schema gives, where a row names one value', () => {
    const required = { QUEUE_URL: 'q', DLQ_URL: 'd', IDEMPOTENCY_TABLE: 'i', ORDERS_TABLE: 'o' };
    const defaults: Record<string, unknown> = {
      ...parseEnv(ingestEnvSchema, required),
      ...parseEnv(workerEnvSchema, required),
      ...parseEnv(reconcileEnvSchema, required),
    };
    const wrong: string[] = [];
    for (const row of envRows) {
      const names = codeSpans(row[0] as string);
      const values = codeSpans(row[2] as string);
      if (names.length !== 1 || values.length !== 1 || !((names[0] as string) in defaults)) continue;
      const actual = defaults[names[0] as string];
      const shown = Array.isArray(actual) ? actual.join(',') : String(actual);
      if (shown !== values[0]) wrong.push(`${names[0]}: docs say ${values[0]}, the schema gives ${shown}`);
    }
    expect(wrong).toEqual([]);
  });

  it('lists exactly the credential keys of the secret', () => {
    const keys = tableRows(section(doc, 'Credentials')).flatMap((row) => codeSpans(row[0] as string));
    expect([...keys].sort()).toEqual([...SECRET_KEYS].sort());
  });

  const stackRows = tableRows(section(doc, 'Stack settings (CDK context)'));
  const stackNames = stackRows.flatMap((row) => codeSpans(row[0] as string));

  it('lists every stack setting once, and only stack settings', () => {
    expect(duplicates(stackNames)).toEqual([]);
    expect({ missing: SETTING_KEYS.filter((key) => !stackNames.includes(key)) }).toEqual({ missing: [] });
    expect({
      unknown: stackNames.filter((name) => !(SETTING_KEYS as string[]).includes(name)),
    }).toEqual({ unknown: [] });
  });

  it("gives each stack setting's default as the settings schema does", () => {
    const defaults = stackSettingsSchema.parse({}) as Record<string, unknown>;
    const wrong: string[] = [];
    for (const row of stackRows) {
      const names = codeSpans(row[0] as string);
      const values = codeSpans(row[1] as string);
      const documented = (row[1] as string).trim();
      names.forEach((name, i) => {
        const actual = defaults[name];
        if (actual === undefined) {
          // No default: the row says "–" or describes one the stack derives (not a literal).
          if (documented !== '–' && values.length === names.length && !values[i]?.includes('<'))
            wrong.push(`${name}: docs give the default ${values[i]}, the schema has none`);
          return;
        }
        const value =
          values.length === names.length ? values[i] : values.length === 1 ? values[0] : undefined;
        if (value !== String(actual)) wrong.push(`${name}: docs say ${value}, the schema gives ${actual}`);
      });
    }
    expect(wrong).toEqual([]);
  });
});

describe('operations.md matches the stack and the CLI', () => {
  const doc = read('docs/operations.md');

  it('the runbook has exactly one row per alarm of the stack (default and every feature)', () => {
    const rows = tableRows(section(doc, 'Runbook: what each alarm means'));
    const documented = rows.flatMap((row) => codeSpans(row[0] as string));
    const deployed = new Set<string>();
    for (const context of [{}, ALL_FEATURES]) {
      const { template } = buildStack(context);
      for (const logicalId of Object.keys(template.findResources('AWS::CloudWatch::Alarm')))
        deployed.add(alarmKey(`${STACK_NAME}-${logicalId}-1A2B3C4D5E6F`) ?? `(no runbook key) ${logicalId}`);
    }

    expect(duplicates(documented)).toEqual([]);
    expect([...documented].sort()).toEqual([...deployed].sort());
  });

  describe('the IAM table', () => {
    const rows = tableRows(section(doc, 'The CLI in AWS'), 'Command |');
    const main = read('scripts/cli/main.ts');
    // The entries of COMMANDS in scripts/cli/main.ts: `name: {` followed by its summary.
    const commands = [...main.matchAll(/^\s+'?([a-z-]+)'?: \{\s*\n\s*summary:/gm)].map((m) => ({
      name: m[1] as string,
    }));

    it('has a row for every CLI command that talks to AWS', () => {
      expect(commands.length).toBeGreaterThan(5);
      const documented = new Set(
        rows.flatMap((row) => codeSpans(row[0] as string).map((c) => c.split(' ')[0])),
      );
      // A command that takes the target options (--aws) talks to the deployed stack.
      const cliSources = readdirSync(path.join(ROOT, 'scripts/cli'))
        .filter((f) => f.endsWith('.ts'))
        .map((f) => read(`scripts/cli/${f}`))
        .join('\n');
      const awsCommands = commands
        .filter(({ name }) => {
          const helpName = `${name.replace(/-/g, '_').toUpperCase()}_HELP`;
          const help = new RegExp(`export const ${helpName} = \`([\\s\\S]*?)\`;`).exec(cliSources)?.[1] ?? '';
          return /TARGET_HELP|--aws|--url/.test(help);
        })
        .map(({ name }) => name);

      expect(awsCommands.length).toBeGreaterThan(5);
      expect(awsCommands.filter((name) => !documented.has(name))).toEqual([]);
    });

    it('names only IAM actions the code makes through an AWS SDK command', () => {
      const sources = ['scripts/cli', 'shared']
        .flatMap((dir) =>
          readdirSync(path.join(ROOT, dir), { recursive: true, encoding: 'utf8' })
            .filter((f) => f.endsWith('.ts'))
            .map((f) => read(`${dir}/${f}`)),
        )
        .join('\n');
      /** How the code makes each call: `<Action>Command` unless listed (document client, batches, Powertools). */
      const VIA: Record<string, string[]> = {
        'dynamodb:GetItem': ['GetCommand'],
        'dynamodb:PutItem': ['PutCommand'],
        'dynamodb:UpdateItem': ['UpdateCommand', 'UpdateItemCommand'],
        'dynamodb:BatchGetItem': ['BatchGetCommand'],
        'sqs:SendMessage': ['SendMessageCommand', 'SendMessageBatchCommand'],
        'sqs:DeleteMessage': ['DeleteMessageCommand', 'DeleteMessageBatchCommand'],
        'sqs:ChangeMessageVisibility': [
          'ChangeMessageVisibilityCommand',
          'ChangeMessageVisibilityBatchCommand',
        ],
        's3:ListBucket': ['ListObjectsV2Command'],
        's3:GetObject': ['GetObjectCommand', 'HeadObjectCommand'],
        'secretsmanager:GetSecretValue': ['GetSecretValueCommand', 'parameters/secrets'],
      };
      const actions = rows.flatMap((row) =>
        codeSpans(row[1] as string).filter((span) => /^[a-z0-9]+:[A-Za-z]+$/.test(span)),
      );
      const unknown = [...new Set(actions)].filter((action) => {
        const ways = VIA[action] ?? [`${action.split(':')[1]}Command`];
        return !ways.some((way) => new RegExp(`\\b${way}\\b`).test(sources));
      });

      expect(actions.length).toBeGreaterThan(10);
      expect(unknown).toEqual([]);
    });
  });
});

describe('inventories in the docs', () => {
  it("design.md's project layout names every folder under functions/ and shared/", () => {
    const layout = section(read('docs/design.md'), 'Project layout');
    const folders = [
      ...readdirSync(path.join(ROOT, 'functions')).map((f) => `functions/${f}/`),
      ...readdirSync(path.join(ROOT, 'shared'), { withFileTypes: true })
        .filter((entry) => entry.isDirectory())
        .map((entry) => `${entry.name}/`),
    ];
    const missing = folders.filter((folder) => !layout.includes(folder));

    expect(folders.length).toBeGreaterThan(10);
    expect(missing).toEqual([]);
  });

  it("deployment.md's opening names each function and the archive bucket", () => {
    const { template } = buildStack();
    const opening = read('docs/deployment.md').split('\n## ')[0] as string;
    const functionNames = Object.values(
      template.findResources('AWS::Lambda::Function') as Record<
        string,
        { Properties: { Description?: string } }
      >,
    )
      .map((fn) => /^order-webhooks (\w+)/.exec(fn.Properties.Description ?? '')?.[1])
      .filter((name): name is string => name !== undefined);

    expect(functionNames.sort()).toEqual(['ingest', 'reconcile', 'worker']);
    for (const name of functionNames) expect(opening).toContain(name);
    expect(Object.keys(template.findResources('AWS::S3::Bucket'))).not.toEqual([]);
    expect(opening).toContain('archive bucket');
  });

  it('local-mode.md names the S3 emulator and its data folder', () => {
    const doc = read('docs/local-mode.md');
    expect(doc).toMatch(/S3 emulator/);
    expect(section(doc, 'Data folder')).toContain('`.local/s3/`');
  });

  it('each docs/… "Heading" the stack\'s descriptions point at exists', () => {
    const { template } = buildStack();
    const text = JSON.stringify(template.toJSON());
    const refs = [...text.matchAll(/(docs\/[a-z-]+\.md) \\?"([^"\\]+)\\?"/g)].map(
      (m) => [m[1] as string, m[2] as string] as const,
    );
    const broken = refs.filter(([file, heading]) => !new RegExp(`^#+ ${heading}`, 'm').test(read(file)));

    expect(refs.length).toBeGreaterThan(0);
    expect(broken).toEqual([]);
    expect(text).not.toMatch(/as in the README/);
  });
});

describe('what the docs say the product does', () => {
  it("local-mode.md's lower bound for LOCAL_WORKER_TIMEOUT_SECONDS is the check's", () => {
    const row = read('docs/local-mode.md')
      .split('\n')
      .find((line) => line.startsWith('| `LOCAL_WORKER_TIMEOUT_SECONDS`'));
    const configuration = read('docs/configuration.md');

    expect(row).toContain(`${MIN_WORKER_TIMEOUT_SECONDS} s or more`);
    expect(configuration).toContain(
      `\`LOCAL_WORKER_TIMEOUT_SECONDS\` | integer ${MIN_WORKER_TIMEOUT_SECONDS}-900`,
    );
  });

  it('no doc says a body above the SQS limit gets 413 while the stack has an archive bucket for the claim check', () => {
    const { template } = buildStack();
    const ingest = Object.values(
      template.findResources('AWS::Lambda::Function') as Record<
        string,
        { Properties: { Description?: string; Environment?: { Variables?: Record<string, unknown> } } }
      >,
    ).find((fn) => fn.Properties.Description?.startsWith('order-webhooks ingest'));
    expect(ingest?.Properties.Environment?.Variables?.ARCHIVE_BUCKET).toBeDefined();

    const claims = DOC_FILES.flatMap((file) =>
      read(file)
        .split(/\n\s*\n/)
        .filter((paragraph) => /413 above (the queue's )?1 MiB|above 1 MiB[^.]*413/.test(paragraph))
        .map((paragraph) => `${file}: ${paragraph.slice(0, 80)}`),
    );
    expect(claims).toEqual([]);
  });

  describe("the ingest's size answers, with configuration.md's defaults", () => {
    const doc = read('docs/configuration.md');
    const defaultOf = (name: string) => {
      const row = doc.split('\n').find((line) => line.startsWith(`| \`${name}\``));
      return Number(codeSpans(row?.split('|')[3] ?? '')[0]);
    };
    const maxMessageBytes = defaultOf('MAX_MESSAGE_BYTES');
    const [maxBodyDefault] = codeSpans(
      doc
        .split('\n')
        .find((line) => line.startsWith('| `MAX_BODY_BYTES`'))
        ?.split('|')[3] ?? '',
    );
    const maxBodyBytes = Number(maxBodyDefault?.replace(/,.*/, ''));
    const NOW_MS = 1_750_000_000_000;
    const secret = String(testSecrets().RECHARGE_WEBHOOK_SECRETS[0]);
    const bodyOf = (bytes: number) => {
      const prefix = '{"order":{"id":7,"status":"SUCCESS","pad":"';
      return `${prefix}${'x'.repeat(bytes - prefix.length - 3)}"}}`;
    };
    const post = async (body: string, claims: boolean) => {
      const stored: string[] = [];
      const deps = {
        ...fakeDeps({ nowMs: NOW_MS, maxMessageBytes }),
        ...(claims
          ? {
              claims: {
                bucket: 'archive',
                putClaim: async (_key: string, value: string) => {
                  stored.push(value);
                },
                getClaim: async () => '',
              },
            }
          : {}),
      };
      deps.settings = { ...deps.settings, maxBodyBytes };
      const response = await makeIngestHandler(deps)(
        proxyEvent({
          path: '/webhooks/recharge/order/created',
          body,
          headers: { 'X-Recharge-Webhook-Signature': rechargeSignatureHeader(secret, NOW_MS / 1000, body) },
        }),
      );
      return { status: response.statusCode, queued: deps.queued.length, stored: stored.length };
    };

    it('reads the two limits from the doc', () => {
      expect(maxMessageBytes).toBe(1_048_576);
      expect(maxBodyBytes).toBeGreaterThan(maxMessageBytes);
    });

    it('a 2 MB body is queued through the claim check (200), not refused', async () => {
      expect(await post(bodyOf(2_000_000), true)).toEqual({ status: 200, queued: 1, stored: 1 });
    });

    it('without an archive bucket the same body gets 413', async () => {
      expect(await post(bodyOf(2_000_000), false)).toEqual({ status: 413, queued: 0, stored: 0 });
    });

    it('above MAX_BODY_BYTES it gets 413 even with a bucket', async () => {
      expect(await post(bodyOf(maxBodyBytes + 1), true)).toEqual({ status: 413, queued: 0, stored: 0 });
    });
  });

  it("archive --help and operations.md describe the listing's order the same way", () => {
    const ops = read('docs/operations.md');
    const flat = (text: string) => text.replace(/\s+/g, ' ');
    // Listed (and replayed) in the order received, every receipt its own entry.
    expect(flat(ARCHIVE_HELP)).toContain('oldest first (by the time each was received)');
    expect(flat(ARCHIVE_HELP)).toContain('a delivery received again is listed again, with its own time');
    expect(flat(ops)).toContain('oldest first');
    expect(flat(ops)).toContain('is listed twice, each with its own receive time');
    expect(flat(ops)).not.toMatch(/listed once|replaces the earlier copy/);
  });
});

describe('the docs are written as the product is', () => {
  /** History and changelog wording: the docs describe what is, not what changed. */
  const CHANGELOG = [
    /\bsince issue\b/i,
    /\bissue \d+/i,
    /\bwas \d/,
    /\b(is|are) no longer (read|used|needed|set|supported)\b/i,
    /\bused to\b/i,
    /^Before \(/m,
    /\*\*Fixed:\*\*/,
    /\bas before\b/i,
    /\bAdded here\b/,
    /\bas merged\b/i,
    /\(Node 20\)/,
  ];

  it.each(DOC_FILES)('%s has no changelog wording', (file) => {
    const text = read(file);
    const found = CHANGELOG.flatMap((pattern) => {
      const m = pattern.exec(text);
      return m
        ? [`${pattern}: …${text.slice(Math.max(0, m.index - 40), m.index + 40).replace(/\n/g, ' ')}…`]
        : [];
    });
    expect(found).toEqual([]);
  });
});
