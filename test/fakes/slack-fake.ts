/**
 * Fake Slack incoming webhook (https://api.slack.com/messaging/webhooks), over HTTPS with a
 * self-signed certificate made by the openssl CLI (the platform's outbound guard calls https
 * only; the test trusts `ca`). POST a JSON body with `text` to the webhook's path; answers 200
 * `ok` (text/plain), 400 `invalid_payload` without text, 404 `no_service` for a path it does not
 * know (a revoked or mistyped webhook), 403 `action_prohibited` when disabled, 500 in `error` mode.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SlackFake {
  url: string;
  /** The certificate to trust. */
  ca: string;
  mode: 'normal' | 'error' | 'disabled';
  /** The texts each webhook path accepted, in order. */
  messages: { path: string; text: string }[];
  /** The full URL of one of its webhooks. */
  hook(name: string): string;
  close(): Promise<void>;
}

function selfSignedCertificate(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'slack-fake-'));
  try {
    const key = join(dir, 'k.pem');
    const cert = join(dir, 'c.pem');
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'],
      { stdio: 'ignore' },
    );
    return { key: readFileSync(key, 'utf8'), cert: readFileSync(cert, 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function startSlackFake(options: { hooks: string[] }): Promise<SlackFake> {
  const known = new Set(options.hooks.map((name) => `/services/${name}`));
  const tls = selfSignedCertificate();
  const fake = { mode: 'normal', messages: [] as { path: string; text: string }[] } as SlackFake;
  const server = createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const answer = (status: number, body: string) => {
        res.writeHead(status, { 'content-type': 'text/plain' });
        res.end(body);
      };
      const path = new URL(req.url ?? '/', 'https://fake').pathname;
      if (req.method !== 'POST') return answer(405, 'invalid_method');
      if (!known.has(path)) return answer(404, 'no_service');
      if (fake.mode === 'error') return answer(500, 'rollup_error');
      if (fake.mode === 'disabled') return answer(403, 'action_prohibited');
      let text: unknown;
      try {
        text = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { text?: unknown }).text;
      } catch {
        return answer(400, 'invalid_payload');
      }
      if (typeof text !== 'string' || text === '') return answer(400, 'invalid_payload');
      fake.messages.push({ path, text });
      return answer(200, 'ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  fake.url = `https://127.0.0.1:${port}`;
  fake.ca = tls.cert;
  fake.hook = (name) => `${fake.url}/services/${name}`;
  fake.close = () =>
    new Promise<void>((resolve, reject) => {
      server.closeAllConnections();
      server.close((error) => (error ? reject(error) : resolve()));
    });
  return fake;
}
