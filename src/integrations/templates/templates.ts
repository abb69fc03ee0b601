/**
 * Message templates: `{{variable}}` placeholders and nothing else (no conditions, loops, filters or
 * nested evaluation). Each placeholder is replaced in one pass, so a value that itself contains
 * `{{…}}` is inserted literally and never expanded: caller-supplied text cannot inject template
 * syntax. Templates come from the client's config (trusted); values come from calls (untrusted)
 * and are HTML-escaped in email HTML.
 */
import { DateTime } from 'luxon';
import { displayNameOf } from '../../clients/branding.ts';
import type { ResolvedClientConfig } from '../../clients/client.schema.ts';
import { formatJsonPath } from '../../clients/client.schema.ts';
import { smsSegments } from '../sms/sms-segments.ts';

export const smsTemplateKinds = ['confirmation', 'followup', 'link'] as const;
export type SmsTemplateKind = (typeof smsTemplateKinds)[number];

export const emailTemplateKinds = ['summary', 'caller_followup', 'message_taken'] as const;
export type EmailTemplateKind = (typeof emailTemplateKinds)[number];

/**
 * Variables the platform fills in. Callers pass display-ready strings (times already formatted in
 * the client's timezone, a neutral fallback such as "there" for an unknown name).
 */
export const templateVariables = {
  customer_name: 'Caller or customer name',
  caller_phone: 'Caller number (E.164)',
  business_name: 'The client’s business name',
  appointment_time: 'Booked appointment, formatted in the client’s timezone',
  call_time: 'When the call happened, formatted in the client’s timezone',
  call_summary: 'Call summary from the call analysis',
  sentiment: 'Caller sentiment from the call analysis',
  transcript: 'Full call transcript',
  recording_url: 'Link to the call recording',
  link_url: 'A link the caller asked for (booking page, intake form, …)',
  message: 'Message the caller left',
  urgency: 'Urgency of a message taken (e.g. normal, urgent)',
} as const;
export type TemplateVariable = keyof typeof templateVariables;

/** A time as templates show it ("Tuesday, March 3 at 10:00 AM"), in the client's timezone. */
export function templateTime(date: Date, timezone: string): string {
  return DateTime.fromJSDate(date, { zone: timezone }).toFormat("cccc, LLLL d 'at' h:mm a");
}
export type TemplateValues = Readonly<Partial<Record<string, string>>>;

/** Free text of unbounded length: fine in email, never in an SMS (segment count and privacy). */
const unboundedVariables = new Set<string>(['call_summary', 'transcript', 'message']);

const placeholder = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

export interface RenderResult {
  text: string;
  /** Placeholders with no value; they rendered as empty. */
  missing: string[];
  /** `*_url` values that were not http(s) URLs; they rendered as empty. */
  rejected: string[];
}

export function renderTemplate(template: string, values: TemplateValues, options: { escapeHtml: boolean }): RenderResult {
  const missing = new Set<string>();
  const rejected = new Set<string>();
  const text = template.replace(placeholder, (_match, name: string) => {
    const value = Object.hasOwn(values, name) ? values[name] : undefined;
    if (value === undefined) {
      missing.add(name);
      return '';
    }
    if (name.endsWith('_url') && !isHttpUrl(value)) {
      rejected.add(name);
      return '';
    }
    return options.escapeHtml ? escapeHtml(value) : value;
  });
  return { text, missing: [...missing], rejected: [...rejected] };
}

/** The placeholder names a template uses, in order of first use. */
export function templatePlaceholders(template: string): string[] {
  return [...new Set(Array.from(template.matchAll(placeholder), (match) => match[1] ?? ''))];
}

export function escapeHtml(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}

export interface EmailTemplate {
  /** One line; rendered without HTML escaping, CR/LF folded to spaces. */
  subject: string;
  text: string;
  html: string;
}

export interface MessageTemplates {
  sms: Readonly<Record<string, string>>;
  email: Readonly<Record<string, EmailTemplate>>;
}

export type IndustryProfile = 'tax_preparation' | 'medical' | 'salon' | 'general';

/** Maps the free-text `industry` in client config to the profile whose defaults it gets. */
export function industryProfile(industry: string): IndustryProfile {
  const key = industry.trim().toLowerCase().replace(/[\s-]+/g, '_');
  if (/^(tax|tax_prep|tax_preparation|accounting|bookkeeping)$/.test(key)) return 'tax_preparation';
  if (/^(medical|clinic|dental|dentist|healthcare|health|chiropractic|physiotherapy|veterinary)$/.test(key)) return 'medical';
  if (/^(salon|hair_salon|spa|beauty|barber|barbershop|nails)$/.test(key)) return 'salon';
  return 'general';
}

const stop = 'Reply STOP to opt out.';
const linkSms = `{{business_name}}: here is the link you asked for: {{link_url}} ${stop}`;

// SMS defaults carry no call content: texts are read on lock screens, and for clinics a visit
// reason would be health information.
const smsDefaults: Record<IndustryProfile, Record<SmsTemplateKind, string>> = {
  general: {
    confirmation: `Hi {{customer_name}}, your appointment with {{business_name}} is confirmed for {{appointment_time}}. ${stop}`,
    followup: `Hi {{customer_name}}, thanks for calling {{business_name}}. We will follow up with you shortly. ${stop}`,
    link: linkSms,
  },
  tax_preparation: {
    confirmation: `Hi {{customer_name}}, you're booked with {{business_name}} for {{appointment_time}}. Bring ID, W-2s, 1099s & last year's return. ${stop}`,
    followup: `Hi {{customer_name}}, thanks for calling {{business_name}}. A tax professional will get back to you within one business day. ${stop}`,
    link: linkSms,
  },
  medical: {
    confirmation: `Hi {{customer_name}}, this confirms your appointment at {{business_name}} on {{appointment_time}}. Please arrive 10 minutes early. ${stop}`,
    followup: `Hi {{customer_name}}, thank you for calling {{business_name}}. Our staff will call you back. In an emergency call 911. ${stop}`,
    link: linkSms,
  },
  salon: {
    confirmation: `Hi {{customer_name}}! You're booked at {{business_name}} for {{appointment_time}}. Need to change it? Just give us a call. ${stop}`,
    followup: `Hi {{customer_name}}, thanks for calling {{business_name}}! We'd love to see you soon. ${stop}`,
    link: linkSms,
  },
};

const summaryText = `New call handled by the receptionist for {{business_name}}.

Caller: {{customer_name}} ({{caller_phone}})
Time: {{call_time}}
Sentiment: {{sentiment}}
Appointment: {{appointment_time}}

Summary:
{{call_summary}}

Recording: {{recording_url}}

Transcript:
{{transcript}}
`;

const messageTakenText = `A caller left a message for {{business_name}}.

From: {{customer_name}} ({{caller_phone}})
Time: {{call_time}}
Urgency: {{urgency}}

Message:
{{message}}
`;

const callerFollowupText: Record<IndustryProfile, string> = {
  general: `Hi {{customer_name}},

Thank you for calling {{business_name}}. Here is a summary of your call:

{{call_summary}}

Appointment: {{appointment_time}}

If anything is wrong, just reply to this email or give us a call.

{{business_name}}
`,
  tax_preparation: `Hi {{customer_name}},

Thank you for calling {{business_name}}. Here is a summary of your call:

{{call_summary}}

Appointment: {{appointment_time}}

Please bring a photo ID, your W-2s and 1099s, and last year's tax return.

{{business_name}}
`,
  // No call summary for clinics: email is not a safe place for health details.
  medical: `Hi {{customer_name}},

Thank you for calling {{business_name}}.

Appointment: {{appointment_time}}

Please arrive 10 minutes early and bring your insurance card and a photo ID. If you need to reschedule, please call us.

{{business_name}}
`,
  salon: `Hi {{customer_name}},

Thanks for calling {{business_name}}! Here is a summary of your call:

{{call_summary}}

Appointment: {{appointment_time}}

Need to change something? Just give us a call.

{{business_name}}
`,
};

function emailFromText(subject: string, text: string): EmailTemplate {
  return { subject, text, html: htmlFromText(text) };
}

/**
 * An HTML body from a text template: the template is escaped (placeholders survive, they contain
 * no special characters), `*_url` placeholders become links, and `white-space: pre-wrap` keeps both
 * the template's and the values' line breaks without converting values.
 */
export function htmlFromText(text: string): string {
  const body = escapeHtml(text.trimEnd()).replace(/\{\{\s*([A-Za-z_][A-Za-z0-9_]*_url)\s*\}\}/g, '<a href="{{$1}}">{{$1}}</a>');
  return `<!doctype html>\n<html><body><div style="font-family: Arial, sans-serif; font-size: 14px; white-space: pre-wrap">${body}</div></body></html>\n`;
}

/** Rough text from an HTML template, used when a client overrides only the HTML body. */
function textFromHtml(html: string): string {
  return html
    .replace(/<(script|style)[\s\S]*?<\/\1>/gi, '')
    .replace(/<br\s*\/?>|<\/(p|div|tr|h[1-6]|li)>/gi, '\n')
    .replace(/<[^>]*>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

export function defaultTemplates(industry: string): MessageTemplates {
  const profile = industryProfile(industry);
  return {
    sms: { ...smsDefaults[profile] },
    email: {
      summary: emailFromText('Call summary: {{customer_name}} ({{caller_phone}})', summaryText),
      caller_followup: emailFromText('Thanks for calling {{business_name}}', callerFollowupText[profile]),
      message_taken: emailFromText('Message from {{customer_name}} ({{urgency}})', messageTakenText),
    },
  };
}

type TemplateConfig = Pick<ResolvedClientConfig, 'industry' | 'templates'>;

/**
 * The client's templates: its overrides over the industry defaults, per template name (clients may
 * add names of their own). An email override replaces fields it sets; when it sets only one of
 * `text` / `html`, the other body is derived from it so the two parts never disagree.
 */
export function templatesFor(config: TemplateConfig): MessageTemplates {
  const defaults = defaultTemplates(config.industry);
  const sms: Record<string, string> = { ...defaults.sms, ...config.templates?.sms };
  const email: Record<string, EmailTemplate> = { ...defaults.email };
  for (const [name, override] of Object.entries(config.templates?.email ?? {})) {
    const base = email[name] ?? { subject: '', text: '', html: '' };
    const text = override.text ?? (override.html !== undefined ? textFromHtml(override.html) : base.text);
    const html = override.html ?? (override.text !== undefined ? htmlFromText(override.text) : base.html);
    email[name] = { subject: override.subject ?? base.subject, text, html };
  }
  return { sms, email };
}

export function renderSms(templates: MessageTemplates, name: string, values: TemplateValues): RenderResult {
  const template = templates.sms[name];
  if (template === undefined) throw new Error(`no SMS template named "${name}"`);
  return renderTemplate(template, values, { escapeHtml: false });
}

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
  missing: string[];
  rejected: string[];
}

export function renderEmail(templates: MessageTemplates, name: string, values: TemplateValues): RenderedEmail {
  const template = templates.email[name];
  if (template === undefined) throw new Error(`no email template named "${name}"`);
  const subject = renderTemplate(template.subject, values, { escapeHtml: false });
  const text = renderTemplate(template.text, values, { escapeHtml: false });
  const html = renderTemplate(template.html, values, { escapeHtml: true });
  const parts = [subject, text, html];
  return {
    subject: subject.text.replace(/[\r\n]+/g, ' ').trim(),
    text: text.text,
    html: html.text,
    missing: [...new Set(parts.flatMap((part) => part.missing))],
    rejected: [...new Set(parts.flatMap((part) => part.rejected))],
  };
}

export type TemplateIssue = { path: string; message: string };

/**
 * Long but plausible values. The name holds a character outside GSM-7, which turns the whole text
 * into UCS-2 (70 characters per segment instead of 160): a real risk with callers' names.
 */
const worstCaseValues: Record<TemplateVariable, string> = {
  customer_name: 'Đặng Maximilian Worthington-Smythe',
  caller_phone: '+14155552671',
  business_name: 'Business',
  appointment_time: 'Wednesday, September 24 at 10:30 AM',
  call_time: 'Wednesday, September 24 at 10:30 AM',
  call_summary: 'x'.repeat(300),
  sentiment: 'Neutral',
  transcript: 'x'.repeat(2000),
  recording_url: 'https://recordings.example.com/r/0123456789abcdef0123456789abcdef',
  link_url: 'https://booking.example.com/r/0123456789abcdef0123456789abcdef',
  message: 'x'.repeat(300),
  urgency: 'urgent',
};

/**
 * Problems with a client's own SMS templates (`templates.sms.*`), for config validation: unknown
 * variables, unbounded free-text variables, and texts that, rendered with worst-case values and
 * the client's real business name, need more than `maxSegments` segments.
 */
export function validateSmsTemplates(config: TemplateConfig & Pick<ResolvedClientConfig, 'name'>, options: { maxSegments?: number } = {}): TemplateIssue[] {
  const maxSegments = options.maxSegments ?? 3;
  const issues: TemplateIssue[] = [];
  for (const [name, template] of Object.entries(config.templates?.sms ?? {})) {
    const path = formatJsonPath(['templates', 'sms', name]);
    const used = templatePlaceholders(template);
    const unknown = used.filter((variable) => !Object.hasOwn(templateVariables, variable));
    if (unknown.length > 0) issues.push({ path, message: `unknown variable ${unknown.map((v) => `{{${v}}}`).join(', ')} (known: ${Object.keys(templateVariables).join(', ')})` });
    const unbounded = used.filter((variable) => unboundedVariables.has(variable));
    if (unbounded.length > 0) {
      issues.push({ path, message: `${unbounded.map((v) => `{{${v}}}`).join(', ')} has no length limit and cannot be used in an SMS` });
      continue;
    }
    const rendered = renderTemplate(template, { ...worstCaseValues, business_name: displayNameOf(config) }, { escapeHtml: false }).text;
    const count = smsSegments(rendered);
    if (count.segments > maxSegments) {
      issues.push({
        path,
        message: `too long: ${count.segments} SMS segments (${count.encoding}, ${count.length} units) with long values such as a non-English caller name; the limit is ${maxSegments}`,
      });
    }
  }
  return issues;
}

/** Unknown variables in a client's email templates (`templates.email.*`). */
export function validateEmailTemplates(config: TemplateConfig): TemplateIssue[] {
  const issues: TemplateIssue[] = [];
  for (const [name, template] of Object.entries(config.templates?.email ?? {})) {
    for (const field of ['subject', 'text', 'html'] as const) {
      const source = template[field];
      if (source === undefined) continue;
      const unknown = templatePlaceholders(source).filter((variable) => !Object.hasOwn(templateVariables, variable));
      if (unknown.length > 0) issues.push({ path: formatJsonPath(['templates', 'email', name, field]), message: `unknown variable ${unknown.map((v) => `{{${v}}}`).join(', ')}` });
    }
  }
  return issues;
}
