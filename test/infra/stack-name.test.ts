import { createApp } from '../../infra/create-app';
import { STACK_NAME } from '../../shared/resources';
import { buildStack, testAppProps } from './build-stack';

/**
 * `stackName`: staging and production side by side in one account and region. Each stack carries
 * its own name, and its functions' metrics and its alarms carry their own `service`, so one stack's
 * failures never set off the other's alarms.
 */
type Resource = { Type: string; Properties: Record<string, unknown> };

function services(resources: Record<string, Resource>) {
  const fromFunctions = Object.values(resources)
    .filter((r) => r.Type === 'AWS::Lambda::Function')
    .map(
      (r) =>
        (r.Properties.Environment as { Variables: Record<string, string> }).Variables.POWERTOOLS_SERVICE_NAME,
    );
  const fromAlarms = Object.values(resources)
    .filter((r) => r.Type === 'AWS::CloudWatch::Alarm' && r.Properties.Namespace === 'OrderWebhooks')
    .flatMap((r) => (r.Properties.Dimensions as { Name: string; Value: string }[]).map((d) => d.Value));
  return {
    fromFunctions: new Set(fromFunctions),
    fromAlarms: new Set(fromAlarms),
    alarms: fromAlarms.length,
  };
}

describe('stackName', () => {
  it('is OrderWebhooks by default, with the service name the functions have always had', () => {
    const { stack, template } = buildStack();

    expect(stack.stackName).toBe(STACK_NAME);
    const found = services(template.toJSON().Resources);
    expect(found.fromFunctions).toEqual(new Set(['order-webhooks']));
    expect(found.fromAlarms).toEqual(new Set(['order-webhooks']));
  });

  it("names the stack, and the service of its functions' metrics and of its alarms", () => {
    const { stack, template } = buildStack({ stackName: 'OrderWebhooksStaging' });

    expect(stack.stackName).toBe('OrderWebhooksStaging');
    const found = services(template.toJSON().Resources);
    expect(found.alarms).toBeGreaterThan(0);
    expect(found.fromFunctions).toEqual(new Set(['OrderWebhooksStaging']));
    expect(found.fromAlarms).toEqual(new Set(['OrderWebhooksStaging']));
  });

  it('refuses a name CloudFormation would refuse, naming the setting', () => {
    expect(() => createApp(testAppProps({ stackName: 'order_webhooks' }))).toThrow(
      /context "stackName": expected a CloudFormation stack name/,
    );
  });
});
