import { Match, type Template } from 'aws-cdk-lib/assertions';
import { METRIC, METRICS_NAMESPACE } from '../../shared/metrics';
import { buildStack } from './build-stack';

type Resources = Record<string, { Properties: Record<string, unknown> }>;

/** The environment of the function whose description starts with `order-webhooks <name>`. */
function envOf(template: Template, name: string): Record<string, unknown> {
  const found = Object.values(
    template.findResources('AWS::Lambda::Function', {
      Properties: Match.objectLike({ Description: Match.stringLikeRegexp(`^order-webhooks ${name}`) }),
    }) as Resources,
  );
  expect(found).toHaveLength(1);
  const env = found[0]?.Properties.Environment as { Variables: Record<string, unknown> } | undefined;
  return env?.Variables ?? {};
}

describe('write-back mode and first-pass lookback as stack settings', () => {
  it('defaults to fill and a one-hour first pass, on the worker and the reconciler', () => {
    const { template } = buildStack();

    expect(envOf(template, 'worker').RECHARGE_WRITE_BACK).toBe('fill');
    expect(envOf(template, 'reconcile')).toMatchObject({
      RECHARGE_WRITE_BACK: 'fill',
      RECONCILE_LOOKBACK_SECONDS: '3600',
    });
  });

  it('carries rechargeWriteBack and reconcileLookbackSeconds from the context, and refuses an unknown mode', () => {
    const { template } = buildStack({ rechargeWriteBack: 'shadow', reconcileLookbackSeconds: '86400' });

    expect(envOf(template, 'worker').RECHARGE_WRITE_BACK).toBe('shadow');
    expect(envOf(template, 'reconcile')).toMatchObject({
      RECHARGE_WRITE_BACK: 'shadow',
      RECONCILE_LOOKBACK_SECONDS: '86400',
    });
    expect(() => buildStack({ rechargeWriteBack: 'replace' })).toThrow(/context "rechargeWriteBack"/);
  });

  it('alarms once a write-back stopped (a fight, through NeedsAttention), not when fill keeps or shadow records', () => {
    const { template } = buildStack();
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: METRICS_NAMESPACE,
      MetricName: METRIC.needsAttention,
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    for (const quiet of [
      METRIC.writeBackKept,
      METRIC.writeBackShadow,
      METRIC.writeBackRepaired,
      METRIC.writeBackStopped,
    ])
      expect(template.findResources('AWS::CloudWatch::Alarm', { Properties: { MetricName: quiet } })).toEqual(
        {},
      );
  });
});
