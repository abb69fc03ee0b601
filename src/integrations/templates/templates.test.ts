import { describe, expect, it } from 'vitest';
import { smsSegments } from '../sms/sms-segments.ts';
import {
  defaultTemplates,
  emailTemplateKinds,
  industryProfile,
  renderEmail,
  renderSms,
  renderTemplate,
  smsTemplateKinds,
  templatePlaceholders,
  templatesFor,
  validateEmailTemplates,
  validateSmsTemplates,
} from './templates.ts';

describe('renderTemplate', () => {
  it('fills {{variables}}, tolerating inner spaces', () => {
    expect(renderTemplate('Hi {{customer_name}}, see you {{ appointment_time }}.', { customer_name: 'Ana', appointment_time: 'Mon 10:00' }, { escapeHtml: false })).toEqual({
      text: 'Hi Ana, see you Mon 10:00.',
      missing: [],
      rejected: [],
    });
  });

  it('renders unknown or missing variables as empty and reports them', () => {
    const result = renderTemplate('A{{nope}}B{{customer_name}}C{{nope}}', {}, { escapeHtml: false });
    expect(result).toEqual({ text: 'ABC', missing: ['nope', 'customer_name'], rejected: [] });
  });

  it('never expands template syntax inside values (no injection)', () => {
    const values = { customer_name: '{{business_name}} {{transcript}}', business_name: 'SECRET' };
    expect(renderTemplate('Hi {{customer_name}}', values, { escapeHtml: false }).text).toBe('Hi {{business_name}} {{transcript}}');
    expect(renderTemplate('{{customer_name}}', { customer_name: '{{customer_name}}' }, { escapeHtml: true }).text).toBe('{{customer_name}}');
  });

  it('does not read inherited properties as values', () => {
    expect(renderTemplate('{{constructor}}{{toString}}', {}, { escapeHtml: false })).toEqual({ text: '', missing: ['constructor', 'toString'], rejected: [] });
  });

  it('escapes HTML in values when asked, never the template', () => {
    const result = renderTemplate('<p>{{message}}</p>', { message: `<script>alert("x")</script> & 'q'` }, { escapeHtml: true });
    expect(result.text).toBe('<p>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39;</p>');
    expect(renderTemplate('{{message}}', { message: '<b>' }, { escapeHtml: false }).text).toBe('<b>');
  });

  it('only accepts http(s) URLs in *_url variables', () => {
    const result = renderTemplate('<a href="{{recording_url}}">x</a>{{link_url}}', { recording_url: 'javascript:alert(1)', link_url: 'https://ok.example/x?a=1&b=2' }, { escapeHtml: true });
    expect(result.text).toBe('<a href="">x</a>https://ok.example/x?a=1&amp;b=2');
    expect(result.rejected).toEqual(['recording_url']);
  });

  it('leaves malformed braces alone', () => {
    expect(renderTemplate('{ {x}} {{1x}} {{x', { x: 'v' }, { escapeHtml: false }).text).toBe('{ {x}} {{1x}} {{x');
  });
});

describe('default templates', () => {
  it('maps industries to profiles', () => {
    expect(industryProfile('tax_preparation')).toBe('tax_preparation');
    expect(industryProfile('Tax Preparation')).toBe('tax_preparation');
    expect(industryProfile('clinic')).toBe('medical');
    expect(industryProfile('dental')).toBe('medical');
    expect(industryProfile('hair-salon')).toBe('salon');
    expect(industryProfile('plumbing')).toBe('general');
  });

  it('has every kind for every industry, each SMS within 3 segments with worst-case values', () => {
    for (const industry of ['tax_preparation', 'medical', 'salon', 'general']) {
      const templates = defaultTemplates(industry);
      for (const kind of smsTemplateKinds) expect(templates.sms[kind], `${industry}.${kind}`).toBeDefined();
      for (const kind of emailTemplateKinds) expect(templates.email[kind], `${industry}.${kind}`).toBeDefined();
      // validateSmsTemplates checks a client's own templates; feed it the defaults as if overridden.
      const issues = validateSmsTemplates({ name: 'A Rather Long Business Name, LLC', industry, templates: { sms: { ...templates.sms } } });
      expect(issues, industry).toEqual([]);
      for (const kind of smsTemplateKinds) expect(templates.sms[kind]).toContain('STOP');
    }
  });

  it('keeps call content out of clinic texts and clinic caller emails', () => {
    const templates = defaultTemplates('medical');
    for (const kind of smsTemplateKinds) expect(templatePlaceholders(templates.sms[kind]!)).not.toContain('call_summary');
    expect(templatePlaceholders(templates.email.caller_followup!.text)).not.toContain('call_summary');
  });

  it('renders the business summary email with escaped HTML and a recording link', () => {
    const email = renderEmail(defaultTemplates('general'), 'summary', {
      business_name: 'Biz',
      customer_name: 'Jane <Roe>',
      caller_phone: '+14155552671',
      call_time: 'Mon 9:00',
      sentiment: 'Positive',
      appointment_time: 'Tue 10:00',
      call_summary: 'Wants a <b>cleaning</b>',
      recording_url: 'https://rec.example/1?a=1&b=2',
      transcript: 'Agent: Hi\nUser: {{business_name}}',
    });
    expect(email.subject).toBe('Call summary: Jane <Roe> (+14155552671)');
    expect(email.text).toContain('Wants a <b>cleaning</b>');
    expect(email.text).toContain('User: {{business_name}}');
    expect(email.html).toContain('Jane &lt;Roe&gt;');
    expect(email.html).toContain('Wants a &lt;b&gt;cleaning&lt;/b&gt;');
    expect(email.html).toContain('<a href="https://rec.example/1?a=1&amp;b=2">https://rec.example/1?a=1&amp;b=2</a>');
    expect(email.html).not.toContain('<b>');
    expect(email.missing).toEqual([]);
  });

  it('folds line breaks out of subjects', () => {
    const email = renderEmail(defaultTemplates('general'), 'message_taken', { customer_name: 'A\r\nBcc: x@evil.example', urgency: 'urgent' });
    expect(email.subject).toBe('Message from A Bcc: x@evil.example (urgent)');
  });
});

describe('templatesFor', () => {
  it('merges client overrides over the industry defaults', () => {
    const templates = templatesFor({
      industry: 'salon',
      templates: {
        sms: { confirmation: 'Booked {{appointment_time}}. Reply STOP to opt out.', promo: 'Hi {{customer_name}}' },
        email: { summary: { subject: 'New call {{caller_phone}}' }, caller_followup: { text: 'Hi {{customer_name}} & co\nBye' } },
      },
    });
    expect(templates.sms.confirmation).toBe('Booked {{appointment_time}}. Reply STOP to opt out.');
    expect(templates.sms.followup).toBe(defaultTemplates('salon').sms.followup);
    expect(templates.sms.promo).toBe('Hi {{customer_name}}');
    expect(templates.email.summary!.subject).toBe('New call {{caller_phone}}');
    expect(templates.email.summary!.text).toBe(defaultTemplates('salon').email.summary!.text);
    // A text-only override also replaces the HTML body, derived from the text.
    const followup = renderEmail(templates, 'caller_followup', { customer_name: '<Ana>' });
    expect(followup.text).toBe('Hi <Ana> & co\nBye');
    expect(followup.html).toContain('Hi &lt;Ana&gt; &amp; co\nBye');
    expect(renderSms(templates, 'promo', { customer_name: 'Ana' }).text).toBe('Hi Ana');
  });

  it('derives the text body from an HTML-only override', () => {
    const templates = templatesFor({ industry: 'general', templates: { email: { custom: { subject: 'S', html: '<p>Hi {{customer_name}} &amp; co</p><p>Bye</p>' } } } });
    expect(templates.email.custom!.text).toBe('Hi {{customer_name}} & co\nBye');
  });

  it('throws for an unknown template name', () => {
    expect(() => renderSms(templatesFor({ industry: 'general', templates: undefined }), 'nope', {})).toThrow(/no SMS template/);
  });
});

describe('validateSmsTemplates', () => {
  it('reports templates that exceed the segment limit with worst-case values', () => {
    const long = `Hi {{customer_name}}, ${'please remember to bring everything. '.repeat(5)}`;
    expect(smsSegments(long).segments).toBeLessThanOrEqual(2);
    const issues = validateSmsTemplates({ name: 'Biz', industry: 'general', templates: { sms: { reminder: long } } });
    expect(issues).toHaveLength(1);
    expect(issues[0]!.path).toBe('$.templates.sms.reminder');
    expect(issues[0]!.message).toMatch(/too long: \d+ SMS segments \(UCS-2/);
    expect(validateSmsTemplates({ name: 'Biz', industry: 'general', templates: { sms: { reminder: long } } }, { maxSegments: 10 })).toEqual([]);
  });

  it('uses the client’s real business name', () => {
    const template = '{{business_name}}: see you {{appointment_time}}.';
    expect(validateSmsTemplates({ name: 'Short', industry: 'general', templates: { sms: { t: template } } })).toEqual([]);
    expect(validateSmsTemplates({ name: 'x'.repeat(500), industry: 'general', templates: { sms: { t: template } } })).toHaveLength(1);
  });

  it('reports unknown and unbounded variables', () => {
    const issues = validateSmsTemplates({ name: 'Biz', industry: 'general', templates: { sms: { a: 'Hi {{firstname}}', b: 'Summary: {{call_summary}}', 'my-kind': 'ok' } } });
    expect(issues).toEqual([
      { path: '$.templates.sms.a', message: expect.stringContaining('unknown variable {{firstname}}') },
      { path: '$.templates.sms.b', message: '{{call_summary}} has no length limit and cannot be used in an SMS' },
    ]);
    expect(validateEmailTemplates({ industry: 'general', templates: { email: { summary: { subject: '{{oops}}' } } } })).toEqual([
      { path: '$.templates.email.summary.subject', message: 'unknown variable {{oops}}' },
    ]);
  });
});
