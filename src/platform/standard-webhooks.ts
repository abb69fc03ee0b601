/**
 * Standard Webhooks (standardwebhooks.com) signing, for everything the platform POSTs to a
 * client's own systems: custom functions and outbound webhooks. A message is signed as
 * `base64(HMAC-SHA256(key, "<webhook-id>.<webhook-timestamp>.<body>"))`.
 */
import { createHmac, randomBytes } from 'node:crypto';

/** Prefix of a Standard Webhooks secret; the rest is the base64 key. */
export const WEBHOOK_SECRET_PREFIX = 'whsec_';

/**
 * `webhook-signature` value for one message: `v1,<base64 HMAC-SHA256(key, "id.timestamp.body")>`.
 * A `whsec_` secret carries a base64 key; any other secret is used as its UTF-8 bytes.
 */
export function signStandardWebhook(secret: string, id: string, timestamp: number | string, body: string): string {
  const key = secret.startsWith(WEBHOOK_SECRET_PREFIX) ? Buffer.from(secret.slice(WEBHOOK_SECRET_PREFIX.length), 'base64') : Buffer.from(secret, 'utf8');
  const signature = createHmac('sha256', key).update(`${id}.${String(timestamp)}.${body}`).digest('base64');
  return `v1,${signature}`;
}

/**
 * The header for several secrets at once (a rotation: the new one first, then the old one), space
 * separated as the specification allows, so a receiver holding either secret verifies.
 */
export function signStandardWebhookWithAll(secrets: readonly string[], id: string, timestamp: number | string, body: string): string {
  return secrets.map((secret) => signStandardWebhook(secret, id, timestamp, body)).join(' ');
}

/** The Standard Webhooks secret form: `whsec_` and the base64 of the key bytes (at least 16). */
export const STANDARD_WEBHOOK_SECRET = /^whsec_[A-Za-z0-9+/]{22,}={0,2}$/;

/**
 * A fresh `whsec_` secret: 32 random bytes (the specification asks for 24 to 64). The official
 * `standardwebhooks` libraries verify with it in their default setup (`new Webhook(secret)`);
 * `npx xlnc secrets webhook` prints one.
 */
export function generateWebhookSecret(): string {
  return `${WEBHOOK_SECRET_PREFIX}${randomBytes(32).toString('base64')}`;
}
