import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DOCTOR_CHECKS, type DoctorContext, readStackSettings } from '../../../scripts/cli/doctor';

const check = DOCTOR_CHECKS.find((c) => c.name === 'WAF web ACL lets webhook bodies through');
const ctx = (kind: 'aws' | 'local', stackSettings: Record<string, unknown>) =>
  ({ target: { kind }, stackSettings }) as unknown as DoctorContext;

describe('doctor: WAF body-size check', () => {
  it('warns with the fix when the stack attaches a web ACL', async () => {
    const result = await check?.run(
      ctx('aws', { wafWebAclArn: 'arn:aws:wafv2:us-east-1:1:regional/webacl/x/y' }),
    );
    expect(result).toMatchObject({ status: 'warn', fix: expect.stringContaining('SizeRestrictions_BODY') });
  });

  it('is fine without a web ACL, and skipped in the local mode', async () => {
    expect(await check?.run(ctx('aws', {}))).toMatchObject({ status: 'ok' });
    expect(await check?.run(ctx('local', { wafWebAclArn: 'arn' }))).toMatchObject({ status: 'skipped' });
  });

  it("reads the settings from cdk.json's context, and none from a missing or broken file", () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'doctor-'));
    expect(readStackSettings(dir)).toEqual({});
    writeFileSync(path.join(dir, 'cdk.json'), '{"app":"x","context":{"wafWebAclArn":"arn:w"}}');
    expect(readStackSettings(dir)).toEqual({ wafWebAclArn: 'arn:w' });
    writeFileSync(path.join(dir, 'cdk.json'), '{not json');
    expect(readStackSettings(dir)).toEqual({});
  });
});
