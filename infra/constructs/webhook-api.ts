import { CfnOutput, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import type { Construct } from 'constructs';

/** The webhook routes as API Gateway declares them (both API types); the local stand-in matches these. */
export const API_ROUTE_PATHS = [
  '/webhooks/recharge',
  '/webhooks/recharge/{resource}/{event}',
  '/webhooks/wix-cashier-pay/{token}',
  '/webhooks/sevi',
] as const;

/** What the monitoring reads from either API type (both name these metrics in AWS/ApiGateway). */
export type ApiMetrics = Pick<
  apigw.RestApi,
  'metricCount' | 'metricClientError' | 'metricServerError' | 'metricLatency'
>;

export interface WebhookApiProps {
  readonly ingest: lambda.IFunction;
  readonly logRetention: logs.RetentionDays;
  /** Applied to each webhook route on its own: a flood on one route cannot use up another's. */
  readonly throttlingRateLimit: number;
  readonly throttlingBurstLimit: number;
  readonly domainName?: string;
  readonly certificateArn?: string;
  /** REST only (settings refuse it with an HTTP API). */
  readonly wafWebAclArn?: string;
  /** REST only: create the account-level API Gateway CloudWatch Logs role. */
  readonly cloudWatchRole: boolean;
}

export interface WebhookApi {
  readonly type: 'http' | 'rest';
  readonly metrics: ApiMetrics;
  /** Base URL of the stage, ending in `/` (the webhook routes are under it). */
  readonly url: string;
  /** With a custom domain: the name its CNAME points at. */
  readonly customDomainTarget?: string;
  /** REST only: the CDK construct (tests and nag acknowledgements reach it). */
  readonly restApi?: apigw.RestApi;
  readonly httpApi?: apigwv2.HttpApi;
}

const ENDPOINT_DESCRIPTION = 'Base URL of the webhook API (the stage); the webhook URLs above are under it.';

const NO_AUTHORIZER_REASONS = [
  {
    id: 'AwsSolutions-APIG4',
    reason:
      'Webhook senders (ReCharge, Wix, Sevi) cannot sign with IAM or obtain Cognito tokens; the ingest authenticates each delivery by HMAC signature (ReCharge), URL token or JWT (Wix) or Authorization token (Sevi).',
  },
  {
    id: 'AwsSolutions-COG4',
    reason:
      'No user pool can apply to third-party webhook senders; authentication is the provider signature/token checked in the ingest.',
  },
];

/**
 * The HTTP API (the default): payload format 2.0, one `$default` stage, throttled per route, JSON
 * access logs to a log group of the stack. It needs no account-wide setting: API Gateway v2 writes
 * access logs with its service-linked role.
 */
export function httpWebhookApi(scope: Construct, props: WebhookApiProps): WebhookApi {
  const stack = Stack.of(scope);
  const accessLogs = new logs.LogGroup(scope, 'HttpApiAccessLogs', {
    retention: props.logRetention,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const api = new apigwv2.HttpApi(scope, 'HttpApi', {
    apiName: `${stack.stackName}-webhooks`,
    description: 'Webhook receiver: verifies the sender, queues the delivery, answers fast.',
    createDefaultStage: false,
  });
  const integration = new HttpLambdaIntegration('Ingest', props.ingest, {
    payloadFormatVersion: apigwv2.PayloadFormatVersion.VERSION_2_0,
  });
  const routes = API_ROUTE_PATHS.flatMap((path) =>
    api.addRoutes({ path, methods: [apigwv2.HttpMethod.POST], integration }),
  );
  for (const route of routes) Validations.of(route).acknowledge(...NO_AUTHORIZER_REASONS);
  const domain =
    props.domainName && props.certificateArn
      ? new apigwv2.DomainName(scope, 'HttpApiDomain', {
          domainName: props.domainName,
          certificate: acm.Certificate.fromCertificateArn(scope, 'DomainCertificate', props.certificateArn),
          securityPolicy: apigwv2.SecurityPolicy.TLS_1_2,
        })
      : undefined;
  const throttle = { rateLimit: props.throttlingRateLimit, burstLimit: props.throttlingBurstLimit };
  const stage = new apigwv2.HttpStage(scope, 'HttpApiStage', {
    httpApi: api,
    stageName: '$default',
    autoDeploy: true,
    throttle,
    domainMapping: domain ? { domainName: domain } : undefined,
    accessLogSettings: {
      destination: new apigwv2.LogGroupLogDestination(accessLogs),
      // What the ingest's own line (one per request) does not say: above all the requests refused
      // before the function (throttled, no route, too large), with the source IP for abuse. The
      // route key, not the path: the Wix route's path carries a secret token.
      format: apigw.AccessLogFormat.custom(
        JSON.stringify({
          requestId: '$context.requestId',
          time: '$context.requestTimeEpoch',
          ip: '$context.identity.sourceIp',
          route: '$context.routeKey',
          status: '$context.status',
          latencyMs: '$context.responseLatency',
          error: '$context.error.message',
          integrationError: '$context.integrationErrorMessage',
        }),
      ),
    },
  });
  // Route-level throttling: each route its own bucket. The routes must exist before the stage names them.
  const cfnStage = stage.node.defaultChild as apigwv2.CfnStage;
  cfnStage.routeSettings = Object.fromEntries(
    API_ROUTE_PATHS.map((path) => [
      `POST ${path}`,
      { ThrottlingRateLimit: throttle.rateLimit, ThrottlingBurstLimit: throttle.burstLimit },
    ]),
  );
  for (const route of routes) stage.node.addDependency(route);
  new CfnOutput(scope, 'ApiEndpoint', { value: stage.url, description: ENDPOINT_DESCRIPTION });
  return {
    type: 'http',
    metrics: api,
    url: stage.url,
    customDomainTarget: domain?.regionalDomainName,
    httpApi: api,
  };
}

/**
 * The REST API (apiType rest), for AWS WAF. API Gateway REST writes access and execution logs with
 * the account-level CloudWatch Logs role (AWS::ApiGateway::Account): the stack sets it unless
 * apiGatewayCloudWatchRole is false, and deletes the role with the stack rather than orphan it.
 * Construct ids are those of every REST deployment so far (no replacement, same URLs).
 */
export function restWebhookApi(scope: Construct, props: WebhookApiProps): WebhookApi {
  const stack = Stack.of(scope);
  const accessLogs = new logs.LogGroup(scope, 'ApiAccessLogs', {
    retention: props.logRetention,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const certificate = props.certificateArn
    ? acm.Certificate.fromCertificateArn(scope, 'DomainCertificate', props.certificateArn)
    : undefined;
  const perRoute = Object.fromEntries(
    API_ROUTE_PATHS.map((path) => [
      `${path}/POST`,
      { throttlingRateLimit: props.throttlingRateLimit, throttlingBurstLimit: props.throttlingBurstLimit },
    ]),
  );
  const api = new apigw.RestApi(scope, 'Api', {
    restApiName: `${stack.stackName}-webhooks`,
    description: 'Webhook receiver: verifies the sender, queues the delivery, answers fast.',
    endpointConfiguration: { types: [apigw.EndpointType.REGIONAL] },
    // Access and execution logging need the account-level API Gateway logging role.
    cloudWatchRole: props.cloudWatchRole,
    cloudWatchRoleRemovalPolicy: props.cloudWatchRole ? RemovalPolicy.DESTROY : undefined,
    domainName:
      props.domainName && certificate
        ? {
            domainName: props.domainName,
            certificate,
            endpointType: apigw.EndpointType.REGIONAL,
            securityPolicy: apigw.SecurityPolicy.TLS_1_2,
          }
        : undefined,
    deployOptions: {
      stageName: 'prod',
      throttlingRateLimit: props.throttlingRateLimit,
      throttlingBurstLimit: props.throttlingBurstLimit,
      methodOptions: perRoute,
      // Never traced, even with `tracing`: stage segments record the full URL, and the Wix
      // route's path carries its secret token. The functions are traced instead (see AppFunction).
      tracingEnabled: false,
      // No execution logs: API Gateway would create their log group (`API-Gateway-Execution-Logs_<id>/prod`)
      // itself, without retention, and keep it after the stack. The access log's integrationError and
      // error carry what an ERROR-level execution log would.
      loggingLevel: apigw.MethodLoggingLevel.OFF,
      dataTraceEnabled: false,
      accessLogDestination: new apigw.LogGroupLogDestination(accessLogs),
      // As the HTTP API's: what the ingest's line does not say. The resource path, not the path: the
      // Wix route's path carries a secret token.
      accessLogFormat: apigw.AccessLogFormat.custom(
        JSON.stringify({
          requestId: apigw.AccessLogField.contextRequestId(),
          time: apigw.AccessLogField.contextRequestTimeEpoch(),
          ip: apigw.AccessLogField.contextIdentitySourceIp(),
          route: apigw.AccessLogField.contextResourcePath(),
          status: apigw.AccessLogField.contextStatus(),
          latencyMs: apigw.AccessLogField.contextResponseLatency(),
          error: apigw.AccessLogField.contextErrorMessage(),
          integrationError: apigw.AccessLogField.contextIntegrationErrorMessage(),
        }),
      ),
    },
  });
  Validations.of(api.deploymentStage).acknowledge({
    id: 'AwsSolutions-APIG6',
    reason:
      'Execution logs are off: API Gateway would write them to a log group it creates itself, with no retention, that outlives the stack. The access log records every request with its status, error message and integration error.',
  });
  if (props.wafWebAclArn)
    new wafv2.CfnWebACLAssociation(scope, 'WafAssociation', {
      resourceArn: api.deploymentStage.stageArn,
      webAclArn: props.wafWebAclArn,
    });
  else
    Validations.of(api.deploymentStage).acknowledge({
      id: 'AwsSolutions-APIG3',
      reason:
        'WAF is opt-in (context wafWebAclArn): a web ACL costs money and providers send from changing IPs; every route already checks a signature or token and the stage is throttled.',
    });
  Validations.of(api).acknowledge(
    {
      id: 'AwsSolutions-APIG2',
      reason:
        'Bodies are verified by signature over the exact raw bytes, then parsed with zod in the ingest; a request model would reject or alter deliveries before the signature check.',
    },
    {
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      reason:
        'The account-level API Gateway logging role (needed for REST access logs) uses the AWS-documented managed policy for exactly this purpose; opt out with context apiGatewayCloudWatchRole=false.',
    },
  );
  const integration = new apigw.LambdaIntegration(props.ingest, { proxy: true, allowTestInvoke: false });
  const route = (resource: apigw.IResource) =>
    resource.addMethod('POST', integration, { authorizationType: apigw.AuthorizationType.NONE });
  const webhooks = api.root.addResource('webhooks');
  Validations.of(webhooks).acknowledge(...NO_AUTHORIZER_REASONS);
  const recharge = webhooks.addResource('recharge');
  route(recharge);
  route(recharge.addResource('{resource}').addResource('{event}'));
  route(webhooks.addResource('wix-cashier-pay').addResource('{token}'));
  route(webhooks.addResource('sevi'));
  // RestApi's own output (ApiEndpoint<hash>): described like the HTTP API's, for the deploy docs.
  const endpoint = api.node.tryFindChild('Endpoint');
  if (endpoint instanceof CfnOutput) endpoint.description = ENDPOINT_DESCRIPTION;
  return {
    type: 'rest',
    metrics: api,
    url: api.url,
    customDomainTarget: api.domainName?.domainNameAliasDomainName,
    restApi: api,
  };
}
