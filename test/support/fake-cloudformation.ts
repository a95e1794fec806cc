import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeStack {
  name: string;
  region: string;
  outputs: Record<string, string>;
}

export interface FakeCloudFormation {
  url: string;
  /** Every request: the form parameters and the region its SigV4 signature was made for. */
  requests: { params: Record<string, string>; signedRegion: string | undefined }[];
  close(): Promise<void>;
}

const xmlEscape = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * A CloudFormation endpoint on loopback answering DescribeStacks as the Query API does (XML), with
 * a 400 ValidationError "Stack with id X does not exist" for unknown stacks. A stack is only found
 * when the request was signed for the stack's region, as in AWS, where each region is its own
 * endpoint.
 */
export async function startFakeCloudFormation(stacks: FakeStack[]): Promise<FakeCloudFormation> {
  const requests: FakeCloudFormation['requests'] = [];
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk) => {
      raw += chunk;
    });
    req.on('end', () => {
      const params = Object.fromEntries(new URLSearchParams(raw));
      const signedRegion = /Credential=[^/]+\/\d{8}\/([^/]+)\/cloudformation\//.exec(
        String(req.headers.authorization ?? ''),
      )?.[1];
      requests.push({ params, signedRegion });
      const stack = stacks.find((s) => s.name === params.StackName && s.region === signedRegion);
      res.setHeader('content-type', 'text/xml');
      if (params.Action !== 'DescribeStacks' || !stack) {
        res.statusCode = 400;
        res.end(
          `<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><Error><Type>Sender</Type><Code>ValidationError</Code><Message>Stack with id ${xmlEscape(params.StackName ?? '')} does not exist</Message></Error><RequestId>r-1</RequestId></ErrorResponse>`,
        );
        return;
      }
      const outputs = Object.entries(stack.outputs)
        .map(
          ([key, value]) =>
            `<member><OutputKey>${xmlEscape(key)}</OutputKey><OutputValue>${xmlEscape(value)}</OutputValue></member>`,
        )
        .join('');
      res.end(
        `<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><DescribeStacksResult><Stacks><member><StackId>arn:aws:cloudformation:${stack.region}:123456789012:stack/${stack.name}/0a1b2c3d</StackId><StackName>${stack.name}</StackName><CreationTime>2026-01-01T00:00:00.000Z</CreationTime><StackStatus>UPDATE_COMPLETE</StackStatus><Outputs>${outputs}</Outputs></member></Stacks></DescribeStacksResult><ResponseMetadata><RequestId>r-2</RequestId></ResponseMetadata></DescribeStacksResponse>`,
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
