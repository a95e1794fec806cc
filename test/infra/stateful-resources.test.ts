import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { createApp } from '../../infra/create-app';
import { buildStack, testAppProps } from './build-stack';

/*
 * The replacement guard: a change that would make CloudFormation replace a stateful resource (the
 * orders ledger, the archive, the queues, the secret) fails here, before any deploy. Replacement
 * comes from a logical id that disappears (a renamed or moved construct) or from a property whose
 * update "requires replacement" in the CloudFormation resource reference (a table's key schema or
 * name, a bucket's or queue's name, ...). The committed list holds the current values.
 */

interface StatefulResource {
  logicalId: string;
  type: string;
  holds: string;
  deletionPolicy: string;
  updateReplacePolicy: string;
  replacedWhenChanged: Record<string, unknown>;
}

const LIST_FILE = path.resolve(__dirname, 'stateful-resources.json');
const list = JSON.parse(readFileSync(LIST_FILE, 'utf8')) as { wayOut: string; resources: StatefulResource[] };
const STATEFUL_TYPES = [...new Set(list.resources.map((r) => r.type))];

type TemplateJson = {
  Resources: Record<
    string,
    {
      Type: string;
      Properties?: Record<string, unknown>;
      DeletionPolicy?: string;
      UpdateReplacePolicy?: string;
    }
  >;
};

/** Each way the template would replace, orphan or newly add a stateful resource, with the way out. */
function replacementProblems(template: TemplateJson, resources = list.resources): string[] {
  const problems: string[] = [];
  const wayOut = ` Way out: ${list.wayOut} (test/infra/stateful-resources.json)`;
  for (const expected of resources) {
    const found = template.Resources[expected.logicalId];
    if (!found || found.Type !== expected.type) {
      const sameType = Object.entries(template.Resources)
        .filter(([id, r]) => r.Type === expected.type && !resources.some((e) => e.logicalId === id))
        .map(([id]) => id);
      problems.push(
        `${expected.logicalId} (${expected.type}, ${expected.holds}) is gone from the template${
          sameType.length ? `; new: ${sameType.join(', ')} (a renamed construct?)` : ''
        }: CloudFormation would create a new, empty one and ${
          expected.deletionPolicy === 'Retain' ? 'orphan' : 'delete'
        } the old.${wayOut}`,
      );
      continue;
    }
    for (const [property, value] of Object.entries(expected.replacedWhenChanged)) {
      const actual = found.Properties?.[property] ?? null;
      if (JSON.stringify(actual) !== JSON.stringify(value))
        problems.push(
          `${expected.logicalId} (${expected.holds}): ${property} changes from ${JSON.stringify(value)} to ${JSON.stringify(actual)}, which REPLACES the resource.${wayOut}`,
        );
    }
    for (const [policy, value] of [
      ['DeletionPolicy', expected.deletionPolicy],
      ['UpdateReplacePolicy', expected.updateReplacePolicy],
    ] as const)
      if ((found[policy] ?? 'Delete') !== value)
        problems.push(
          `${expected.logicalId} (${expected.holds}): ${policy} changes from ${value} to ${found[policy] ?? 'Delete'}.${wayOut}`,
        );
  }
  for (const [id, resource] of Object.entries(template.Resources))
    if (STATEFUL_TYPES.includes(resource.Type) && !resources.some((e) => e.logicalId === id))
      problems.push(
        `${id} (${resource.Type}) is stateful and not in test/infra/stateful-resources.json: add it with its replacement-forcing properties.`,
      );
  return problems;
}

describe('replacement guard: no change replaces a stateful resource', () => {
  it.each([
    ['default settings', {}],
    ['apiType rest', { apiType: 'rest' }],
  ])('the template with %s keeps every stateful resource as listed', (_name, context) => {
    expect(replacementProblems(buildStack(context).template.toJSON() as TemplateJson)).toEqual([]);
  });

  it('fails when the orders table construct is renamed (a new logical id)', () => {
    const { stack } = createApp(testAppProps());
    const table = stack.ordersTable as dynamodb.Table;
    const oldId = stack.getLogicalId(table.node.defaultChild as CfnElement);
    // What renaming `new dynamodb.Table(this, 'OrdersTable', ...)` to 'LedgerTable' does to the template.
    stack.renameLogicalId(oldId, 'LedgerTable9C1E0F2A');
    const problems = replacementProblems(Template.fromStack(stack).toJSON() as TemplateJson);
    expect(problems).toEqual([
      expect.stringMatching(
        /^OrdersTable315BB997 \(AWS::DynamoDB::Table, the orders ledger.*\) is gone from the template; new: LedgerTable9C1E0F2A \(a renamed construct\?\): CloudFormation would create a new, empty one and orphan the old\. Way out: Keep the construct id/,
      ),
      expect.stringContaining('LedgerTable9C1E0F2A (AWS::DynamoDB::Table) is stateful and not in'),
    ]);
  });

  it('fails when a replacement-forcing property or a retain policy changes', () => {
    const template = buildStack().template.toJSON() as TemplateJson;
    const orders = template.Resources.OrdersTable315BB997 as TemplateJson['Resources'][string];
    orders.Properties = { ...orders.Properties, KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }] };
    const queue = template.Resources.Queue4A7E3555 as TemplateJson['Resources'][string];
    queue.Properties = { ...queue.Properties, QueueName: 'order-webhooks' };
    const bucket = template.Resources.ArchiveBucket9DECBF5D as TemplateJson['Resources'][string];
    bucket.DeletionPolicy = 'Delete';

    const problems = replacementProblems(template);
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(
      /^OrdersTable315BB997 .*KeySchema changes from .* which REPLACES the resource\. Way out/,
    );
    expect(problems[1]).toMatch(/^ArchiveBucket9DECBF5D .*DeletionPolicy changes from Retain to Delete/);
    expect(problems[2]).toMatch(/^Queue4A7E3555 .*QueueName changes from null to "order-webhooks"/);
  });

  it('lists every stateful resource of the template (a new one must be added, with its values)', () => {
    const template = buildStack().template.toJSON() as TemplateJson;
    const stateful = Object.entries(template.Resources)
      .filter(([, r]) => STATEFUL_TYPES.includes(r.Type))
      .map(([id]) => id)
      .sort();
    expect(stateful).toEqual(list.resources.map((r) => r.logicalId).sort());
  });
});
