import { Annotations, App, type AppProps, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { STACK_NAME } from '../shared/resources';
import { retiredContextKeyWarnings, unknownContextKeyProblems } from './context-keys';
import { OrderWebhooksStack } from './order-webhooks-stack';
import { parseStackSettings, SettingsError } from './settings';

/** Stack id (the construct path) and default CloudFormation stack name; `stackName` sets the deployed name. */
export const STACK_ID = STACK_NAME;

/**
 * Builds the app: settings from CDK context, the one stack (environment-agnostic: no lookups,
 * so `cdk synth` works offline), and cdk-nag AwsSolutions as a validation plugin that fails
 * synthesis on any unacknowledged finding.
 */
export function createApp(props: AppProps = {}): { app: App; stack: OrderWebhooksStack } {
  const app = new App(props);
  const unknown = unknownContextKeyProblems(Object.keys(app.node.getAllContext()));
  if (unknown.length > 0) throw new SettingsError(`invalid CDK context: ${unknown.join('; ')}`);
  const settings = parseStackSettings((key) => app.node.tryGetContext(key));
  const stack = new OrderWebhooksStack(app, STACK_ID, { settings, stackName: settings.stackName });
  for (const warning of retiredContextKeyWarnings(Object.keys(app.node.getAllContext())))
    Annotations.of(stack).addWarningV2('order-webhooks:retired-setting', warning);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}
