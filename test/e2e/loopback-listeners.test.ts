import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { startLocalProcess } from './helpers/local-process';

jest.setTimeout(150_000);

/** The pid and every descendant of it, from /proc (the emulators run in their own process groups). */
function processTree(root: number): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Field 4 of /proc/<pid>/stat, after the parenthesised command name (which may hold spaces).
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parentOf.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // the process ended while we looked
    }
  }
  const tree = [root];
  for (let i = 0; i < tree.length; i++)
    for (const [pid, ppid] of parentOf) if (ppid === tree[i] && !tree.includes(pid)) tree.push(pid);
  return tree;
}

function socketInodes(pids: number[]): Set<string> {
  const inodes = new Set<string>();
  for (const pid of pids) {
    let fds: string[] = [];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (match) inodes.add(match[1] as string);
      } catch {
        // closed meanwhile
      }
    }
  }
  return inodes;
}

/** Hex address of /proc/net/tcp{,6} (little-endian 32-bit words) to text. */
function decodeAddress(hex: string): string {
  const words = hex.match(/.{8}/g) ?? [];
  const bytes = words.flatMap((word) =>
    (word.match(/../g) ?? []).reverse().map((b) => Number.parseInt(b, 16)),
  );
  if (bytes.length === 4) return bytes.join('.');
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff)
    return `::ffff:${bytes.slice(12).join('.')}`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0)).toString(16));
  return groups.join(':');
}

/** Every listening TCP socket of the given inodes: address and port. */
function listeners(inodes: Set<string>): { address: string; port: number }[] {
  const found: { address: string; port: number }[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10 || cols[3] !== '0A' || !inodes.has(cols[9] as string)) continue;
      const [addr, port] = (cols[1] as string).split(':') as [string, string];
      found.push({ address: decodeAddress(addr), port: Number.parseInt(port, 16) });
    }
  }
  return found;
}

const isLoopback = (address: string) =>
  /^127\./.test(address) || /^::ffff:127\./.test(address) || address === '0:0:0:0:0:0:0:1';

describe('local mode network exposure', () => {
  it('listens on loopback only: API stand-in, DynamoDB Local, the SQS and S3 emulators and the fake ReCharge', async () => {
    const local = await startLocalProcess();
    try {
      const sockets = listeners(socketInodes(processTree(local.child.pid as number)));
      const ports = (url: string | undefined) => (url ? Number(new URL(url).port) : undefined);
      // Not vacuous: each of the local mode's servers is among the sockets found.
      const expected = [
        local.state.apiUrl,
        local.state.dynamodbEndpoint,
        local.state.sqsEndpoint,
        local.state.s3Endpoint,
        local.state.fakeRechargeUrl ?? undefined,
      ];
      for (const endpoint of expected) expect(sockets.map((s) => s.port)).toContain(ports(endpoint));
      expect(sockets.filter((s) => !isLoopback(s.address))).toEqual([]);
    } finally {
      await local.stop();
    }
  });
});
