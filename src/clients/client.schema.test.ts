import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { clientConfigSchema, formatJsonPath, listSecretFields } from './client.schema.ts';

const example = JSON.parse(readFileSync(new URL('../../test/fixtures/client-canonical-example.json', import.meta.url), 'utf8'));
const shipped = JSON.parse(readFileSync(new URL('../../config/clients/smart-tax-nation.json', import.meta.url), 'utf8'));

function issuesOf(input: unknown): Array<{ path: string; message: string }> {
  const result = clientConfigSchema.safeParse(input);
  if (result.success) return [];
  return result.error.issues.map((issue) => ({ path: formatJsonPath(issue.path), message: issue.message }));
}

function paths(input: unknown): string[] {
  return issuesOf(input).map((issue) => issue.path);
}

describe('clientConfigSchema', () => {
  it('accepts the canonical example from the issue and the shipped example', () => {
    expect(issuesOf(example)).toEqual([]);
    expect(issuesOf(shipped)).toEqual([]);
  });

  it('fills defaults', () => {
    const minimal = {
      client_id: 'acme',
      name: 'Acme',
      timezone: 'Europe/London',
      retell: { api_key: 'env:ACME_RETELL', agent_ids: ['agent_1'] },
      calendar: { provider: 'internal' },
    };
    const config = clientConfigSchema.parse(minimal);
    expect(config).toMatchObject({
      status: 'active',
      environment: 'live',
      industry: 'general',
      business_hours: {},
      holidays: [],
      retell: { phone_numbers: [] },
      calendar: { provider: 'internal', appointment_minutes: 30, buffer_minutes: 0, min_notice_minutes: 60, horizon_days: 14 },
      features: { booking: true, sms_followup: true, email_summary: true },
      limits: { webhooks_per_minute: 600, max_concurrent_calls: 10, overflow: 'allow' },
      functions: [],
    });
    expect(config.sms).toBeUndefined();
    expect(config.email).toBeUndefined();
    expect(clientConfigSchema.parse({ ...minimal, sms: { ...example.sms, enabled: undefined } }).sms).toMatchObject({
      enabled: false,
      default_country: 'US',
    });
  });

  it('rejects bad values with the JSON path of each problem', () => {
    expect(paths({ ...example, client_id: 'Bad_Id' })).toEqual(['$.client_id']);
    expect(paths({ ...example, timezone: 'Mars/Olympus_Mons' })).toEqual(['$.timezone']);
    expect(paths({ ...example, holidays: ['2026-13-45'] })).toEqual(['$.holidays[0]']);
    expect(paths({ ...example, retell: { ...example.retell, agent_ids: [] } })).toEqual(['$.retell.agent_ids']);
    expect(paths({ ...example, retell: { ...example.retell, phone_numbers: ['555-0123'] } })).toEqual(['$.retell.phone_numbers[0]']);
    expect(paths({ ...example, calendar: { ...example.calendar, data_center: 'mars' } })).toEqual(['$.calendar.data_center']);
    expect(paths({ ...example, sms: { ...example.sms, provider: 'pigeon' } })).toEqual(['$.sms.provider']);
    expect(paths({ ...example, email: { ...example.email, from: 'not an address' } })).toEqual(['$.email.from']);
  });

  it('rejects unknown keys at every level (typos)', () => {
    expect(paths({ ...example, bussiness_hours: {} })).toEqual(['$']);
    expect(issuesOf({ ...example, bussiness_hours: {} })[0]?.message).toMatch(/bussiness_hours/);
    expect(paths({ ...example, sms: { ...example.sms, authkey: 'x' } })).toEqual(['$.sms']);
    expect(paths({ ...example, business_hours: { monday: ['09:00-17:00'] } })).toEqual(['$.business_hours']);
  });

  it('validates business hour ranges: format, order and overlap', () => {
    const withHours = (fri: string[]) => ({ ...example, business_hours: { fri } });
    expect(paths(withHours(['9:00-17:00']))).toEqual(['$.business_hours.fri[0]']);
    expect(paths(withHours(['17:00-09:00']))).toEqual(['$.business_hours.fri[0]']);
    expect(issuesOf(withHours(['09:00-13:00', '12:00-17:00']))).toEqual([
      { path: '$.business_hours.fri[1]', message: 'overlaps 09:00-13:00' },
    ]);
    expect(paths(withHours(['13:00-17:00', '09:00-13:00', '18:00-24:00']))).toEqual([]);
  });

  it('checks secret reference syntax without echoing the value', () => {
    const issues = issuesOf({ ...example, sms: { ...example.sms, auth_key: 'env:lower_case' } });
    expect(issues.map((issue) => issue.path)).toEqual(['$.sms.auth_key']);
    expect(issues[0]?.message).not.toContain('lower_case');
    expect(paths({ ...example, email: { ...example.email, api_key: 'enc:v1:garbage' } })).toEqual(['$.email.api_key']);
  });

  it('requires a sender for twilio and an overflow agent for overflow "agent"', () => {
    const twilio = { provider: 'twilio', account_sid: `AC${'a'.repeat(32)}`, auth_token: 'env:TWILIO_TOKEN' };
    expect(paths({ ...example, sms: twilio })).toEqual(['$.sms.from_number']);
    expect(paths({ ...example, sms: { ...twilio, messaging_service_sid: `MG${'b'.repeat(32)}` } })).toEqual([]);
    expect(paths({ ...example, limits: { overflow: 'agent' } })).toEqual(['$.retell.overflow_agent_id']);
  });

  it('accepts the zoho mail provider and lists every secret field per provider', () => {
    const config = clientConfigSchema.parse({
      ...example,
      email: {
        provider: 'zoho',
        enabled: true,
        account_id: '123',
        data_center: 'eu',
        oauth: { client_id: '1000.X', client_secret: 'env:MAIL_SECRET', refresh_token: 'env:MAIL_REFRESH' },
        from: 'desk@example.com',
      },
    });
    expect(listSecretFields(config).map((field) => formatJsonPath(field.path))).toEqual([
      '$.retell.api_key',
      '$.calendar.oauth.client_secret',
      '$.calendar.oauth.refresh_token',
      '$.sms.auth_key',
      '$.email.oauth.client_secret',
      '$.email.oauth.refresh_token',
    ]);
  });

  it('validates branding: https logo without credentials, #rrggbb color, a bare lowercased host', () => {
    const branded = (branding: Record<string, unknown>) => ({ ...example, branding });
    const good = clientConfigSchema.parse(
      branded({ display_name: 'Bright Smile', logo_url: 'https://cdn.example.com/logo.svg', primary_color: '#0F766E', custom_host: 'Portal.BrightSmile.example' }),
    );
    expect(good.branding).toEqual({ display_name: 'Bright Smile', logo_url: 'https://cdn.example.com/logo.svg', primary_color: '#0f766e', custom_host: 'portal.brightsmile.example' });
    expect(clientConfigSchema.parse(example).branding).toBeUndefined();

    expect(issuesOf(branded({ primary_color: 'teal' }))).toEqual([{ path: '$.branding.primary_color', message: 'must be a color like #0f766e' }]);
    expect(paths(branded({ primary_color: '#0f766' }))).toEqual(['$.branding.primary_color']);
    expect(issuesOf(branded({ logo_url: 'http://cdn.example.com/logo.svg' }))).toEqual([{ path: '$.branding.logo_url', message: 'must be an https:// URL' }]);
    expect(issuesOf(branded({ logo_url: 'https://user:pw@cdn.example.com/logo.svg' }))).toEqual([
      { path: '$.branding.logo_url', message: 'must not carry a user name or password' },
    ]);
    expect(paths(branded({ logo_url: `https://cdn.example.com/${'a'.repeat(2048)}.svg` }))).toEqual(['$.branding.logo_url']);
    for (const host of ['portal.example.com:8443', 'portal.example.com/login', 'https://portal.example.com', 'localhost', '-bad.example.com', 'a..example.com']) {
      expect(paths(branded({ custom_host: host })), host).toEqual(['$.branding.custom_host']);
    }
    expect(paths(branded({ display_name: '' }))).toEqual(['$.branding.display_name']);
    expect(paths(branded({ display_name: 'x'.repeat(81) }))).toEqual(['$.branding.display_name']);
    expect(paths(branded({ colour: '#000000' }))).toEqual(['$.branding']);
  });

  it('exports to JSON Schema for editors, matching the committed file', () => {
    const schema = z.toJSONSchema(clientConfigSchema, { io: 'input' }) as { required?: string[]; additionalProperties?: boolean };
    expect(schema.required).toEqual(['client_id', 'name', 'timezone', 'retell', 'calendar']);
    expect(schema.additionalProperties).toBe(false);
    const committed = JSON.parse(readFileSync(new URL('../../config/client.schema.json', import.meta.url), 'utf8'));
    expect(committed).toEqual({ ...schema, title: 'XLNC Perception client configuration' });
  });
});
