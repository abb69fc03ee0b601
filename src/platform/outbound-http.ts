/**
 * Outbound HTTP to addresses a tenant chose (custom functions, outbound webhooks): every request
 * is untrusted traffic (SSRF). Only https, only public addresses, checked on the exact address the
 * socket connects to (no second resolution: DNS rebinding), a fresh connection per request, no
 * redirects followed, one hard deadline for the whole exchange and a capped response body.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, isIPv4, isIPv6, type LookupFunction } from 'node:net';
import { SpanKind, SpanStatusCode, startSpan } from './tracing.ts';

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

export interface SafeRequest {
  url: string;
  method?: 'POST' | 'PUT';
  headers: Readonly<Record<string, string | number>>;
  body: string;
  /** One deadline for DNS, connect, TLS, request and the whole response body. */
  timeoutMs: number;
  /** A body larger than this is refused (declared or streamed). */
  maxResponseBytes: number;
  /** Test seam: let through an address the guard would refuse (e.g. 127.0.0.1). Never set in production. */
  allowAddress?: ((ip: string) => boolean) | undefined;
  /** Extra trusted CA (tests with a self-signed certificate). */
  ca?: string | Buffer | undefined;
  /** What the call is, naming its span (`custom_function`, `webhook_delivery`). */
  operation?: string;
}

/**
 * - `timeout`: no complete answer within `timeoutMs` (the request may have arrived).
 * - `blocked_address`: not https, not a URL, or the host is (or resolves to) a non-public address; nothing was sent.
 * - `redirect`: the endpoint answered 3xx; redirects are never followed.
 * - `network_error`: DNS failure, connection refused or reset, TLS failure, response interrupted.
 * - `response_too_large`: the body is over `maxResponseBytes`.
 */
export type SafeRequestErrorCode = 'timeout' | 'blocked_address' | 'redirect' | 'network_error' | 'response_too_large';

export type SafeResponse =
  | { ok: true; status: number; headers: IncomingHttpHeaders; body: Buffer }
  | { ok: false; code: SafeRequestErrorCode; message: string; status?: number };

/** Whether a URL could be called at all (https, and not a literal non-public address): for validating input. */
export function outboundUrlProblem(text: string): string | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'is not a valid URL';
  }
  if (url.protocol !== 'https:') return 'must be an https:// URL';
  if (url.username !== '' || url.password !== '') return 'must not carry credentials';
  const hostname = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(hostname)) {
    const reason = addressBlockReason(hostname);
    if (reason) return `points at ${reason}`;
  }
  if (/^localhost$|\.localhost$/i.test(hostname)) return 'points at loopback (localhost)';
  return null;
}

/** Sends the request and returns the answer (any status outside 3xx). Never throws. */
/**
 * Sends one request through the guard, in a CLIENT span (operation, host, status, outcome; never
 * the path, query, headers or body: a tenant's URL may carry its own secret).
 */
export async function safeRequest(request: SafeRequest): Promise<SafeResponse> {
  const method = request.method ?? 'POST';
  const host = URL.canParse(request.url) ? new URL(request.url).hostname : undefined;
  const span = startSpan(`${request.operation ?? 'outbound_http'} ${method}`, {
    kind: SpanKind.CLIENT,
    attributes: { 'http.request.method': method, ...(host ? { 'server.address': host } : {}) },
  });
  const answer = await sendGuarded(request);
  const status = answer.status;
  if (status !== undefined) span.setAttribute('http.response.status_code', status);
  span.setAttribute('xlnc.outbound.outcome', answer.ok ? 'ok' : answer.code);
  if (!answer.ok || answer.status >= 400) span.setStatus({ code: SpanStatusCode.ERROR, message: answer.ok ? `HTTP ${answer.status}` : answer.code });
  span.end();
  return answer;
}

async function sendGuarded(request: SafeRequest): Promise<SafeResponse> {
  let url: URL;
  try {
    url = new URL(request.url);
  } catch {
    return { ok: false, code: 'blocked_address', message: 'endpoint URL is not a valid URL' };
  }
  if (url.protocol !== 'https:') return { ok: false, code: 'blocked_address', message: 'only https:// endpoints are allowed' };
  const hostname = url.hostname.replace(/^\[|\]$/g, '');
  // Node connects to a literal IP without calling `lookup`, so literals are checked here.
  if (isIP(hostname)) {
    const reason = addressBlockReason(hostname);
    if (reason && !request.allowAddress?.(hostname)) return { ok: false, code: 'blocked_address', message: `${hostname} is ${reason}` };
  }
  const timeoutMs = Math.max(1, request.timeoutMs);

  return new Promise<SafeResponse>((resolve) => {
    let settled = false;
    const timer = setTimeout(() => fail('timeout', `no complete answer within ${timeoutMs} ms`), timeoutMs);
    const settle = (result: SafeResponse): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
      if (!req.destroyed) req.destroy();
    };
    const fail = (code: SafeRequestErrorCode, message: string, status?: number): void =>
      settle({ ok: false, code, message, ...(status !== undefined ? { status } : {}) });

    const req = httpsRequest({
      protocol: 'https:',
      hostname,
      port: url.port === '' ? 443 : Number(url.port),
      path: `${url.pathname}${url.search}`,
      method: request.method ?? 'POST',
      // A fresh connection per call: a pooled socket would bypass the address check of this call.
      agent: false,
      lookup: guardedLookup(request.allowAddress),
      ...(request.ca !== undefined ? { ca: request.ca } : {}),
      headers: { ...request.headers, 'content-length': Buffer.byteLength(request.body), 'accept-encoding': 'identity' },
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === BLOCKED_CODE) fail('blocked_address', error.message);
      else fail('network_error', `${error.code ?? 'error'}: ${error.message}`);
    });
    req.on('response', (res: IncomingMessage) => readResponse(res, request.maxResponseBytes, fail, settle));
    req.end(request.body);
  });
}

function readResponse(
  res: IncomingMessage,
  maxBytes: number,
  fail: (code: SafeRequestErrorCode, message: string, status?: number) => void,
  settle: (result: SafeResponse) => void,
): void {
  const status = res.statusCode ?? 0;
  if (status >= 300 && status < 400) {
    res.resume();
    return fail('redirect', `endpoint answered ${status}${res.headers.location ? ' with a redirect' : ''}; redirects are not followed`, status);
  }
  const declared = Number(res.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    res.resume();
    return fail('response_too_large', `response of ${declared} bytes exceeds ${maxBytes}`, status);
  }
  const chunks: Buffer[] = [];
  let received = 0;
  res.on('data', (chunk: Buffer) => {
    received += chunk.length;
    if (received > maxBytes) return fail('response_too_large', `response exceeds ${maxBytes} bytes`, status);
    chunks.push(chunk);
  });
  res.on('error', (error: Error) => fail('network_error', `response interrupted: ${error.message}`, status));
  res.on('close', () => {
    if (!res.complete) fail('network_error', 'response interrupted', status);
  });
  res.on('end', () => settle({ ok: true, status, headers: res.headers, body: Buffer.concat(chunks) }));
}

/** What a caller gives; the deployment decides the test seams. */
export type OutboundRequest = Omit<SafeRequest, 'allowAddress' | 'ca'>;

/** Outbound HTTP to tenant-chosen URLs, as jobs receive it (tests allow their loopback receivers). */
export interface OutboundHttp {
  request(request: OutboundRequest): Promise<SafeResponse>;
  /** Why this URL can never be called (for refusing it as input), or null. */
  urlProblem(url: string): string | null;
}

export interface OutboundHttpOptions {
  /** Test seam: addresses the guard lets through (a loopback receiver). Never set in production. */
  allowAddress?: ((ip: string) => boolean) | undefined;
  /** Extra trusted CA (a test receiver's self-signed certificate). */
  ca?: string | Buffer | undefined;
}

export function createOutboundHttp(options: OutboundHttpOptions = {}): OutboundHttp {
  return {
    request: (request) => safeRequest({ ...request, allowAddress: options.allowAddress, ca: options.ca }),
    urlProblem(url) {
      const problem = outboundUrlProblem(url);
      if (problem === null || !options.allowAddress) return problem;
      const hostname = URL.canParse(url) ? new URL(url).hostname.replace(/^\[|\]$/g, '') : '';
      return isIP(hostname) && options.allowAddress(hostname) ? null : problem;
    },
  };
}
