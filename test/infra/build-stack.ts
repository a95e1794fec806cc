import { Template } from 'aws-cdk-lib/assertions';
import { createApp } from '../../infra/create-app';

/**
 * Builds the real app (settings from context, cdk-nag plugin attached) without running esbuild:
 * assertion tests look at the template, `npm run synth` exercises the real bundling.
 */
export function buildStack(context: Record<string, unknown> = {}) {
  const { app, stack } = createApp(testAppProps(context));
  return { app, stack, template: Template.fromStack(stack) };
}

/**
 * App props for tests: no esbuild run and no built-in CloudFormation schema validation (3 s per
 * synth); cdk-nag stays attached. `npm run synth` runs both for real.
 */
export function testAppProps(context: Record<string, unknown> = {}) {
  return {
    builtinCloudFormationValidation: false,
    context: { 'aws:cdk:bundling-stacks': [], ...context },
  };
}

/** Every optional feature switched on, with syntactically valid placeholder ARNs. */
export const ALL_FEATURES = {
  // WAF needs the REST API; the HTTP API's options are in stack.test.ts.
  apiType: 'rest',
  tracing: 'true',
  wafWebAclArn: 'arn:aws:wafv2:us-east-1:123456789012:regional/webacl/order-webhooks/abcd',
  domainName: 'hooks.example.com',
  certificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/0000-1111',
  alarmEmail: 'ops@example.com',
  existingSecretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:order-webhooks-AbCdEf',
  existingSecretKmsKeyArn: 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
  // Moving from the one-secret layout: the worker and reconciler also read the (existing) combined secret.
  combinedSecret: 'true',
  orderSystem: 'http',
  orderSystemUrl: 'https://orders.example.com/api',
} as const;
