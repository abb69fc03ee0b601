/**
 * Forwards a client's custom `http` function to the client's own HTTPS endpoint, signed in the
 * Standard Webhooks style. The endpoint URL comes from tenant-editable config, so every request is
 * treated as untrusted outbound traffic (SSRF): only public addresses, checked on the exact
 * address the socket connects to, no redirects, a hard deadline and a capped response.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpsRequest } from 'node:https';
import { isIP, isIPv4, isIPv6, type LookupFunction } from 'node:net';
import type { IncomingMessage } from 'node:http';

/** Upper bound on any endpoint's deadline (issue 5: 5 s), whatever the entry says. */
export const MAX_TIMEOUT_MS = 5000;
/** Responses larger than this are refused: the agent can only speak a few thousand characters. */
export const MAX_RESPONSE_BYTES = 64 * 1024;

export type HttpFunctionEndpoint = { readonly url: string; readonly secret: string; readonly timeout_ms: number };

export type HttpFunctionRequest = {
  clientId: string;
  callId: string | null;
  name: string;
  args: Record<string, unknown>;
  call: Record<string, unknown> | null;
};

export type HttpFunctionOptions = {
  /** Test seam: let through an address the guard would refuse (e.g. 127.0.0.1). Never set in production. */
  allowAddress?: (ip: string) => boolean;
  /** Extra trusted CA (tests with a self-signed certificate). */
  ca?: string | Buffer;
  /** Clock in milliseconds since the epoch, for `webhook-timestamp`. */
  now?: () => number;
};

/**
 * - `timeout`: no complete answer within the entry's `timeout_ms` (the request may have arrived).
 * - `blocked_address`: the host is (or resolves to) a private, loopback, link-local or otherwise
 *   non-public address, or the URL is not https; nothing was sent.
 * - `http_error`: the endpoint answered with a status outside 2xx/3xx.
 * - `network_error`: DNS failure, connection refused or reset, TLS failure.
 * - `invalid_response`: body over MAX_RESPONSE_BYTES, or declared JSON that does not parse.
 * - `redirect`: the endpoint answered 3xx; redirects are never followed.
 */
export type HttpFunctionErrorCode = 'timeout' | 'blocked_address' | 'http_error' | 'network_error' | 'invalid_response' | 'redirect';

export type HttpFunctionResult = { ok: true; status: number; body: unknown } | { ok: false; code: HttpFunctionErrorCode; message: string };

/**
 * `webhook-signature` value for one message: `v1,<base64 HMAC-SHA256(key, "id.timestamp.body")>`.
 * A `whsec_` secret carries a base64 key; any other secret is used as its UTF-8 bytes.
 */
export function signStandardWebhook(secret: string, id: string, timestamp: number | string, body: string): string {
  const key = secret.startsWith('whsec_') ? Buffer.from(secret.slice('whsec_'.length), 'base64') : Buffer.from(secret, 'utf8');
  const signature = createHmac('sha256', key).update(`${id}.${String(timestamp)}.${body}`).digest('base64');
  return `v1,${signature}`;
}

/** Why an address must not be called, or null when it is a public unicast address. Fails closed on garbage. */
export function addressBlockReason(ip: string): string | null {
  const address = ip.replace(/^\[|\]$/g, '');
  if (isIPv4(address)) return ipv4BlockReason(address.split('.').map(Number));
  const bytes = isIPv6(address.split('%')[0] ?? '') ? parseIPv6(address.split('%')[0] ?? '') : null;
  if (!bytes) return 'not an IP address';
  return ipv6BlockReason(bytes);
}

export function isBlockedAddress(ip: string): boolean {
  return addressBlockReason(ip) !== null;
}

function ipv4BlockReason(octets: readonly number[]): string | null {
  const [a = 0, b = 0, c = 0, d = 0] = octets;
  if (a === 0) return 'unspecified / "this network" (0.0.0.0/8)';
  if (a === 10) return 'private (10.0.0.0/8)';
  if (a === 100 && (b & 0xc0) === 64) return 'carrier-grade NAT (100.64.0.0/10)';
  if (a === 127) return 'loopback (127.0.0.0/8)';
  if (a === 169 && b === 254) return c === 169 && d === 254 ? 'cloud metadata (169.254.169.254)' : 'link-local (169.254.0.0/16)';
  if (a === 172 && (b & 0xf0) === 16) return 'private (172.16.0.0/12)';
  if (a === 192 && b === 168) return 'private (192.168.0.0/16)';
  if (a === 192 && b === 0 && c === 0) return 'IETF protocol assignments (192.0.0.0/24)';
  if ((a === 192 && b === 0 && c === 2) || (a === 198 && b === 51 && c === 100) || (a === 203 && b === 0 && c === 113)) return 'documentation range';
  if (a === 198 && (b & 0xfe) === 18) return 'benchmarking (198.18.0.0/15)';
  if (a >= 224 && a <= 239) return 'multicast (224.0.0.0/4)';
  if (a >= 240) return 'reserved / broadcast (240.0.0.0/4)';
  return null;
}

function ipv6BlockReason(bytes: readonly number[]): string | null {
  const at = (i: number): number => bytes[i] ?? 0;
  const zeroUpTo = (end: number): boolean => bytes.slice(0, end).every((byte) => byte === 0);
  const embeddedV4 = (from: number): number[] => [at(from), at(from + 1), at(from + 2), at(from + 3)];
  const viaV4 = (label: string, from: number): string | null => {
    const reason = ipv4BlockReason(embeddedV4(from));
    return reason ? `${label} ${reason}` : null;
  };

  if (zeroUpTo(10) && at(10) === 0xff && at(11) === 0xff) return viaV4('IPv4-mapped', 12);
  if (zeroUpTo(16)) return 'unspecified (::)';
  if (zeroUpTo(15) && at(15) === 1) return 'loopback (::1)';
  if (zeroUpTo(12)) return 'IPv4-compatible (deprecated, ::/96)';
  // NAT64 well-known prefix: the gateway connects to the embedded IPv4 address.
  if (at(0) === 0x00 && at(1) === 0x64 && at(2) === 0xff && at(3) === 0x9b) {
    return bytes.slice(4, 12).every((byte) => byte === 0) ? viaV4('NAT64', 12) : 'local-use NAT64 (64:ff9b:1::/48)';
  }
  if (at(0) === 0x20 && at(1) === 0x02) return viaV4('6to4', 2);
  if (at(0) === 0x20 && at(1) === 0x01 && at(2) === 0x00 && at(3) === 0x00) return 'Teredo (2001::/32)';
  if (at(0) === 0x20 && at(1) === 0x01 && at(2) === 0x0d && at(3) === 0xb8) return 'documentation (2001:db8::/32)';
  if ((at(0) & 0xfe) === 0xfc) return 'unique-local (fc00::/7)';
  if (at(0) === 0xfe && (at(1) & 0xc0) === 0x80) return 'link-local (fe80::/10)';
  if (at(0) === 0xfe && (at(1) & 0xc0) === 0xc0) return 'site-local (fec0::/10)';
  if (at(0) === 0xff) return 'multicast (ff00::/8)';
  // Everything outside global unicast 2000::/3 is reserved or unallocated.
  if ((at(0) & 0xe0) !== 0x20) return 'not global unicast (outside 2000::/3)';
  return null;
}

/** 16 bytes of an address that `isIPv6` accepted (zone id already removed), or null. */
function parseIPv6(address: string): number[] | null {
  let text = address.toLowerCase();
  const tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  const dotted = text.slice(lastColon + 1);
  if (dotted.includes('.')) {
    if (!isIPv4(dotted)) return null;
    const [a = 0, b = 0, c = 0, d = 0] = dotted.split('.').map(Number);
    tail.push(a, b, c, d);
    text = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const groups = (part: string | undefined): number[] => (part ? part.split(':').map((g) => parseInt(g, 16)) : []);
  const head = groups(halves[0]);
  const rest = halves.length === 2 ? groups(halves[1]) : [];
  const missing = 8 - head.length - rest.length;
  if (missing < 0 || (halves.length === 1 && missing !== 0)) return null;
  const words = [...head, ...Array<number>(missing).fill(0), ...rest];
  if (words.some((w) => !Number.isInteger(w) || w < 0 || w > 0xffff)) return null;
  const bytes = words.flatMap((w) => [w >> 8, w & 0xff]);
  if (tail.length === 4) bytes.splice(12, 4, ...tail);
  return bytes;
}

const BLOCKED_CODE = 'ERR_XLNC_BLOCKED_ADDRESS';

function blockedError(host: string, ip: string, reason: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${host} resolves to ${ip}: ${reason}`), { code: BLOCKED_CODE });
}

/**
 * A `lookup` for the socket: resolves once, refuses when ANY address is non-public (a mixed answer
 * is an attack or a misconfiguration), and hands the checked addresses straight to the connect,
 * so a second resolution can never swap in another address (DNS rebinding).
 */
function guardedLookup(allowAddress: ((ip: string) => boolean) | undefined): LookupFunction {
  return (hostname, options, callback) => {
    const family = options.family === 4 || options.family === 6 ? options.family : 0;
    dnsLookup(hostname, { all: true, family }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, []);
      for (const { address } of addresses) {
        const reason = addressBlockReason(address);
        if (reason && !allowAddress?.(address)) return callback(blockedError(hostname, address, reason), []);
      }
      const first = addresses[0];
      if (!first) return callback(Object.assign(new Error(`${hostname} has no addresses`), { code: 'ENOTFOUND' }), []);
      if (options.all) return callback(null, addresses);
      return callback(null, first.address, first.family);
    });
  };
}

function isJsonContentType(value: string | undefined): boolean {
  return value !== undefined && /^[a-z]+\/([a-z0-9.+-]*\+)?json\s*(;|$)/i.test(value.trim());
}

/**
 * POSTs `{ name, client_id, call_id, args, call }` to the endpoint and returns its answer. Never
 * throws: every failure is a typed result the function route turns into a speakable apology.
 */
export async function callHttpFunction(
  entry: HttpFunctionEndpoint,
  request: HttpFunctionRequest,
  options: HttpFunctionOptions = {},
): Promise<HttpFunctionResult> {
  let url: URL;
  try {
    url = new URL(entry.url);
  } catch {
    return { ok: false, code: 'blocked_address', message: 'endpoint URL is not a valid URL' };
  }
  if (url.protocol !== 'https:') return { ok: false, code: 'blocked_address', message: 'only https:// endpoints are allowed' };
  const hostname = url.hostname.replace(/^\[|\]$/g, '');
  // Node connects to a literal IP without calling `lookup`, so literals are checked here.
  if (isIP(hostname)) {
    const reason = addressBlockReason(hostname);
    if (reason && !options.allowAddress?.(hostname)) return { ok: false, code: 'blocked_address', message: `${hostname} is ${reason}` };
  }

  const body = JSON.stringify({ name: request.name, client_id: request.clientId, call_id: request.callId, args: request.args, call: request.call });
  const id = `msg_${randomUUID().replaceAll('-', '')}`;
  const timestamp = Math.floor((options.now ?? Date.now)() / 1000);
  const timeoutMs = Math.max(1, Math.min(entry.timeout_ms, MAX_TIMEOUT_MS));

  return new Promise<HttpFunctionResult>((resolve) => {
    let settled = false;
    // One deadline for DNS, connect, TLS, request and the whole response body.
    const timer = setTimeout(() => fail('timeout', `no complete answer within ${timeoutMs} ms`), timeoutMs);
    const settle = (result: HttpFunctionResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
      if (!req.destroyed) req.destroy();
    };
    const fail = (code: HttpFunctionErrorCode, message: string): void => settle({ ok: false, code, message });

    const req = httpsRequest({
      protocol: 'https:',
      hostname,
      port: url.port === '' ? 443 : Number(url.port),
      path: `${url.pathname}${url.search}`,
      method: 'POST',
      // A fresh connection per call: a pooled socket would bypass the address check of this call.
      agent: false,
      lookup: guardedLookup(options.allowAddress),
      ...(options.ca !== undefined ? { ca: options.ca } : {}),
      headers: {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        accept: 'application/json, text/plain;q=0.9, */*;q=0.1',
        'accept-encoding': 'identity',
        'user-agent': 'xlnc-perception-functions/1',
        'webhook-id': id,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signStandardWebhook(entry.secret, id, timestamp, body),
      },
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === BLOCKED_CODE) fail('blocked_address', error.message);
      else fail('network_error', `${error.code ?? 'error'}: ${error.message}`);
    });
    req.on('response', (res: IncomingMessage) => readResponse(res, fail, settle));
    req.end(body);
  });
}

function readResponse(res: IncomingMessage, fail: (code: HttpFunctionErrorCode, message: string) => void, settle: (result: HttpFunctionResult) => void): void {
  const status = res.statusCode ?? 0;
  if (status >= 300 && status < 400) {
    res.resume();
    return fail('redirect', `endpoint answered ${status}${res.headers.location ? ' with a redirect' : ''}; redirects are not followed`);
  }
  const declared = Number(res.headers['content-length']);
  if (Number.isFinite(declared) && declared > MAX_RESPONSE_BYTES) {
    res.resume();
    return fail('invalid_response', `response of ${declared} bytes exceeds ${MAX_RESPONSE_BYTES}`);
  }
  const chunks: Buffer[] = [];
  let received = 0;
  res.on('data', (chunk: Buffer) => {
    received += chunk.length;
    if (received > MAX_RESPONSE_BYTES) return fail('invalid_response', `response exceeds ${MAX_RESPONSE_BYTES} bytes`);
    chunks.push(chunk);
  });
  res.on('error', (error: Error) => fail('network_error', `response interrupted: ${error.message}`));
  res.on('close', () => {
    if (!res.complete) fail('network_error', 'response interrupted');
  });
  res.on('end', () => {
    if (status < 200 || status >= 300) return fail('http_error', `endpoint answered ${status}`);
    const text = Buffer.concat(chunks).toString('utf8');
    if (text === '' || !isJsonContentType(res.headers['content-type'])) return settle({ ok: true, status, body: text });
    try {
      settle({ ok: true, status, body: JSON.parse(text) as unknown });
    } catch {
      fail('invalid_response', 'response declared JSON but does not parse');
    }
  });
}
