/**
 * The platform's own mail: invitations and password resets, from MAIL_FROM through the platform's
 * mail settings (MAIL_PROVIDER), never a client's provider or credentials. `sandbox` (the default,
 * and what tests use) keeps each message as a JSON file in DATA_DIR/mail (mode 0600) and logs that
 * it did, naming the recipient and the subject, never the link; `sendgrid` sends it through the
 * same SendGrid adapter clients use, with the platform's key.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PLATFORM_BRAND, readableForeground } from '../clients/branding.ts';
import { createSendgridSender, sendgridDefaultBaseUrl } from '../integrations/email/sendgrid.ts';
import { escapeHtml } from '../integrations/templates/templates.ts';
import type { PlatformMailConfig } from '../platform/config.ts';
import type { Logger } from '../platform/logging.ts';
import type { ProviderContext } from '../platform/provider-http.ts';

/** What the account pages send: one recipient, one action link. */
export interface AccountEmail {
  to: string;
  subject: string;
  /** Paragraphs before the link. */
  lines: string[];
  link: { label: string; url: string };
  /** Who the message comes from, as the recipient knows them (a client's brand, or the platform). */
  senderName: string;
  /** A hex color for the button (a client's brand color); its text is white or dark, whichever reads. */
  accentColor?: string | undefined;
  /** The brand's logo (https), shown above the message. */
  logoUrl?: string | undefined;
}

export interface AccountMailer {
  readonly provider: PlatformMailConfig['provider'];
  send(message: AccountEmail): Promise<void>;
}

/** Provider metrics and breakers label platform mail with this in place of a client id. */
export const PLATFORM_MAIL_SCOPE = '_platform';

export function renderAccountEmail(message: AccountEmail): { text: string; html: string } {
  const color = message.accentColor !== undefined && /^#[0-9a-fA-F]{6}$/.test(message.accentColor) ? message.accentColor : PLATFORM_BRAND.primary_color;
  const text = [...message.lines, '', `${message.link.label}: ${message.link.url}`, '', `— ${message.senderName}`].join('\n');
  const logo = message.logoUrl?.startsWith('https://') === true ? message.logoUrl : undefined;
  const html = [
    '<div style="font-family:system-ui,sans-serif;max-width:32rem;line-height:1.5">',
    logo !== undefined ? `<p><img src="${escapeHtml(logo)}" alt="${escapeHtml(message.senderName)}" height="40" style="max-height:40px;max-width:12rem"></p>` : '',
    ...message.lines.map((line) => `<p>${escapeHtml(line)}</p>`),
    `<p><a href="${escapeHtml(message.link.url)}" style="display:inline-block;background:${color};color:${readableForeground(color)};padding:0.6rem 1rem;border-radius:8px;text-decoration:none">${escapeHtml(message.link.label)}</a></p>`,
    `<p style="color:#526075">${escapeHtml(message.senderName)}</p>`,
    '</div>',
  ].join('');
  return { text, html };
}

export function createAccountMailer(options: { config: PlatformMailConfig; dataDir: string; logger: Logger; providers: ProviderContext }): AccountMailer {
  const { config, dataDir, logger, providers } = options;
  switch (config.provider) {
    case 'sandbox': {
      const dir = join(dataDir, 'mail');
      return {
        provider: 'sandbox',
        async send(message) {
          const { text, html } = renderAccountEmail(message);
          mkdirSync(dir, { recursive: true, mode: 0o700 });
          const file = join(dir, `${new Date().toISOString().replaceAll(':', '-')}-${randomBytes(4).toString('hex')}.json`);
          writeFileSync(file, `${JSON.stringify({ from: config.from, to: message.to, subject: message.subject, text, html }, null, 2)}\n`, { mode: 0o600 });
          logger.info({ to: message.to, subject: message.subject, file }, `Account email to ${message.to} kept in ${file} (MAIL_PROVIDER=sandbox: not sent)`);
        },
      };
    }
    case 'sendgrid': {
      const sender = createSendgridSender(
        PLATFORM_MAIL_SCOPE,
        { provider: 'sendgrid', enabled: true, api_key: config.apiKey, from: config.from, api_base_url: config.apiBaseUrl ?? sendgridDefaultBaseUrl },
        providers,
      );
      return {
        provider: 'sendgrid',
        async send(message) {
          const { text, html } = renderAccountEmail(message);
          await sender.send({ to: message.to, subject: message.subject, text, html, reference: `account-${randomBytes(6).toString('hex')}` });
        },
      };
    }
  }
}
