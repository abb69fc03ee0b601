/**
 * A local HTTPS receiver (self-signed certificate made with the openssl CLI) for outbound webhook
 * tests: records every request and answers with what `respond` says (a status, optionally after
 * a delay or never until released).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { tempDir } from './test-app.ts';

export function selfSignedCertificate(): { key: string; cert: string } | null {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
  } catch {
    return null;
  }
  const dir = tempDir('tls-');
  const key = join(dir, 'k.pem');
  const cert = join(dir, 'c.pem');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'],
    { stdio: 'ignore' },
  );
  return { key: readFileSync(key, 'utf8'), cert: readFileSync(cert, 'utf8') };
}

export interface ReceivedRequest {
  path: string;
  headers: Record<string, string>;
  body: string;
  at: number;
}

export interface HttpsReceiver {
  origin: string;
  received: ReceivedRequest[];
  /** Decides each answer; a promise holds the response until it settles. */
  respond: (request: ReceivedRequest) => number | Promise<number>;
  close(): Promise<void>;
}

export async function startHttpsReceiver(tls: { key: string; cert: string }): Promise<HttpsReceiver> {
  const receiver: HttpsReceiver = { origin: '', received: [], respond: () => 204, close: async () => {} };
  const server = createServer({ key: tls.key, cert: tls.cert }, (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request: ReceivedRequest = {
        path: req.url ?? '/',
        headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : String(v)])),
        body: Buffer.concat(chunks).toString('utf8'),
        at: Date.now(),
      };
      receiver.received.push(request);
      void Promise.resolve(receiver.respond(request)).then((status) => {
        if (!res.destroyed) res.writeHead(status).end();
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  receiver.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return receiver;
}
