import { plainAwsError } from '../../../scripts/cli/aws-errors';

/**
 * The failures the --aws paths meet, as the SDK and Node raise them, in one plain line each. The
 * integration tests (cli-aws-target, doctor-alarms) meet the ones moto and loopback can produce;
 * these are the ones they cannot offline: a region name DNS does not know, an expired session.
 */
describe('plainAwsError', () => {
  it('names an unknown host (a mistyped region) and what to check, not getaddrinfo', () => {
    const dnsError = Object.assign(
      new Error('getaddrinfo ENOTFOUND cloudformation.eu-west-9.amazonaws.com'),
      {
        code: 'ENOTFOUND',
        hostname: 'cloudformation.eu-west-9.amazonaws.com',
      },
    );

    expect(plainAwsError(dnsError, { region: 'eu-west-9' })).toBe(
      'cannot reach AWS at cloudformation.eu-west-9.amazonaws.com in eu-west-9 (ENOTFOUND): check the region name (--region), your network or proxy (HTTPS_PROXY), and any AWS_ENDPOINT_URL* variable',
    );
  });

  it('finds the network error behind the SDK wrapping it', () => {
    const wrapped = Object.assign(new Error('socket hang up'), {
      name: 'TimeoutError',
    });
    expect(plainAwsError(wrapped)).toMatch(/^cannot reach AWS \(ETIMEDOUT\)/);
  });

  it('tells an expired session to log in again', () => {
    const expired = Object.assign(new Error('The security token included in the request is expired'), {
      name: 'ExpiredToken',
      $metadata: { httpStatusCode: 403 },
    });
    expect(plainAwsError(expired)).toMatch(/^your AWS session has expired: log in again/);
  });

  it('leaves errors that are not about access or reachability to the caller', () => {
    const other = Object.assign(new Error('Requested resource not found'), {
      name: 'ResourceNotFoundException',
    });
    expect(plainAwsError(other)).toBeUndefined();
  });
});
