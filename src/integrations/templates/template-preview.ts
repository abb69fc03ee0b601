/**
 * A draft of a client's templates rendered the way the platform sends them: the same merge over the
 * industry defaults (templatesFor), the same renderer (renderSms / renderEmail) and the same checks
 * the loader runs (validateSmsTemplates / validateEmailTemplates), with sample call data. What the
 * settings page previews is therefore what a caller receives.
 */
import { displayNameOf } from '../../clients/branding.ts';
import type { ClientConfig, ResolvedClientConfig } from '../../clients/client.schema.ts';
import { smsSegments } from '../sms/sms-segments.ts';
import { renderEmail, renderSms, templatesFor, templateTime, validateEmailTemplates, validateSmsTemplates, type TemplateIssue } from './templates.ts';

export interface SmsPreview {
  name: string;
  /** The template in effect: the draft's, else the industry default. */
  template: string;
  text: string;
  encoding: 'GSM-7' | 'UCS-2';
  segments: number;
  /** Placeholders without a value in the sample (they render empty). */
  missing: string[];
}

export interface EmailPreview {
  name: string;
  template: { subject: string; text: string; html: string };
  subject: string;
  text: string;
  html: string;
  missing: string[];
}

export interface TemplatePreview {
  sms: SmsPreview[];
  email: EmailPreview[];
  /** Problems that would make saving these templates fail, by JSON path (`$.templates.sms.followup`). */
  issues: TemplateIssue[];
  /** The sample values the previews were rendered with. */
  sample: Record<string, string>;
}

type PreviewConfig = Pick<ResolvedClientConfig, 'name' | 'branding' | 'industry' | 'timezone' | 'business'>;

/** Call data a preview is rendered with: a plausible caller, a booking tomorrow at 10:00 in the client's timezone. */
export function sampleTemplateValues(config: PreviewConfig, now: Date): Record<string, string> {
  const tomorrow = new Date(now.getTime() + 24 * 3_600_000);
  const link = Object.values(config.business.links)[0];
  return {
    business_name: displayNameOf(config),
    customer_name: 'Jane Roe',
    caller_phone: '+14155550142',
    call_time: templateTime(now, config.timezone),
    appointment_time: templateTime(tomorrow, config.timezone),
    call_summary: 'Jane asked about opening hours and booked a first visit.',
    sentiment: 'Positive',
    transcript: 'Agent: Thanks for calling, how can I help?\nUser: I would like to book a visit.',
    recording_url: 'https://recordings.example.com/sample.wav',
    link_url: link ?? 'https://example.com/booking',
    message: 'Please call me back about my visit.',
    urgency: 'normal',
  };
}

export function previewTemplates(config: PreviewConfig, draft: ClientConfig['templates'], now: Date): TemplatePreview {
  const candidate = { name: config.name, branding: config.branding, industry: config.industry, templates: draft };
  const templates = templatesFor(candidate);
  const sample = sampleTemplateValues(config, now);
  const sms = Object.keys(templates.sms).map((name): SmsPreview => {
    const rendered = renderSms(templates, name, sample);
    const count = smsSegments(rendered.text);
    return { name, template: templates.sms[name] ?? '', text: rendered.text, encoding: count.encoding, segments: count.segments, missing: rendered.missing };
  });
  const email = Object.keys(templates.email).map((name): EmailPreview => {
    const rendered = renderEmail(templates, name, sample);
    const template = templates.email[name] ?? { subject: '', text: '', html: '' };
    return { name, template: { ...template }, subject: rendered.subject, text: rendered.text, html: rendered.html, missing: rendered.missing };
  });
  return { sms, email, issues: [...validateSmsTemplates(candidate), ...validateEmailTemplates(candidate)], sample };
}
