import { isIP } from 'node:net';

/**
 * True when `url` names a loopback host (127.0.0.0/8, ::1, localhost): the one place a credential
 * or an order may go over plain http, because it never leaves the machine (tests, the local mode).
 */
export function isLoopbackUrl(url: string): boolean {
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    return false;
  }
  host = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1' || host === '0:0:0:0:0:0:0:1';
}

/**
 * Why `url` may not carry credentials or orders (http:// to a host other than loopback), or
 * undefined. `name` is the setting named in the problem.
 */
export function insecureUrlProblem(name: string, url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  let protocol: string;
  try {
    protocol = new URL(url).protocol;
  } catch {
    return undefined; // the schema reports a malformed URL
  }
  if (protocol === 'https:' || (protocol === 'http:' && isLoopbackUrl(url))) return undefined;
  return `${name}: must be an https:// URL (http:// only to a loopback address)`;
}
