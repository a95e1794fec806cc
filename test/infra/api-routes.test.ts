import type { Template } from 'aws-cdk-lib/assertions';
import { matchRoute } from '../../scripts/local/api-gateway';
import { buildStack } from './build-stack';

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

/** The HTTP API's routes as deployed: its route keys (`METHOD /full/{path}`). */
function httpTemplateRoutes(template: Template): Set<string> {
  const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route') as Resources);
  return new Set(routes.map((r) => String(r.Properties.RouteKey)));
}

/** The REST API's routes as deployed: `METHOD /full/{path}` for every method in the template. */
function templateRoutes(template: Template): Set<string> {
  const resources = template.findResources('AWS::ApiGateway::Resource') as Resources;
  const apis = template.findResources('AWS::ApiGateway::RestApi') as Resources;
  const pathOf = (ref: unknown): string => {
    const r = ref as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
    if (r['Fn::GetAtt'] && apis[r['Fn::GetAtt'][0]]) return ''; // the API's root resource
    const resource = resources[r.Ref ?? ''];
    if (!resource) throw new Error(`unknown API resource ${JSON.stringify(ref)}`);
    return `${pathOf(resource.Properties.ParentId)}/${String(resource.Properties.PathPart)}`;
  };
  const methods = Object.values(template.findResources('AWS::ApiGateway::Method') as Resources);
  return new Set(methods.map((m) => `${m.Properties.HttpMethod} ${pathOf(m.Properties.ResourceId) || '/'}`));
}

/** Which deployed route a request matches (API Gateway: exact segments, `{x}` = one segment). */
function deployedMatch(routes: Set<string>, method: string, path: string): string | undefined {
  const segments = path.split('/').filter(Boolean);
  for (const route of routes) {
    const [routeMethod, routePath] = route.split(' ') as [string, string];
    const parts = routePath.split('/').filter(Boolean);
    if (routeMethod !== method || parts.length !== segments.length) continue;
    if (parts.every((part, i) => part.startsWith('{') || part === segments[i])) return routePath;
  }
  return undefined;
}

const PROBES: [string, string][] = [
  ['POST', '/webhooks/recharge'],
  ['POST', '/webhooks/recharge/order/created'],
  ['POST', '/webhooks/recharge/order'],
  ['POST', '/webhooks/recharge/order/created/extra'],
  ['POST', '/webhooks/wix-cashier-pay/some-token'],
  ['POST', '/webhooks/wix-cashier-pay'],
  ['POST', '/webhooks/wix-cashier-pay/a/b'],
  ['POST', '/webhooks/sevi'],
  ['POST', '/webhooks/sevi/extra'],
  ['POST', '/webhooks/shopify'],
  ['POST', '/webhooks'],
  ['POST', '/'],
  ['POST', '/other/recharge'],
  ['GET', '/webhooks/recharge'],
  ['PUT', '/webhooks/sevi'],
  ['DELETE', '/webhooks/wix-cashier-pay/some-token'],
  ['OPTIONS', '/webhooks/sevi'],
  ['GET', '/'],
];

const ROUTES = [
  'POST /webhooks/recharge',
  'POST /webhooks/recharge/{resource}/{event}',
  'POST /webhooks/sevi',
  'POST /webhooks/wix-cashier-pay/{token}',
];

describe('the local API Gateway stand-in routes exactly like the deployed HTTP API (the default)', () => {
  const { template } = buildStack();
  const routes = httpTemplateRoutes(template);

  it('has the four POST routes in the template, and no $default or greedy route that would call the function for anything else', () => {
    expect([...routes].sort()).toEqual(ROUTES);
    for (const route of routes) expect(route).not.toMatch(/\$default|\+\}|ANY /);
  });

  it.each(PROBES)(
    '%s %s: the stand-in calls the function for the same route as API Gateway, or for none',
    (method, path) => {
      expect(matchRoute(method, path)?.resource).toBe(deployedMatch(routes, method, path));
    },
  );
});

describe('the local API Gateway stand-in routes exactly like the deployed REST API (apiType rest)', () => {
  const { template } = buildStack({ apiType: 'rest' });
  const routes = templateRoutes(template);

  it('has the four POST routes in the template', () => {
    expect([...routes].sort()).toEqual(ROUTES);
  });

  it.each(PROBES)(
    '%s %s: the stand-in calls the function for the same route as API Gateway, or for none',
    (method, path) => {
      expect(matchRoute(method, path)?.resource).toBe(deployedMatch(routes, method, path));
    },
  );

  it('keeps API Gateway answering 403 Missing Authentication Token for anything else (no gateway response overrides it)', () => {
    // The README and the stand-in say 403 {"message":"Missing Authentication Token"}: AWS's default
    // answer for a resource or method the REST API does not have, unless a gateway response changes it.
    template.resourceCountIs('AWS::ApiGateway::GatewayResponse', 0);
  });
});
