/** The settings preview renders {{business_name}} as the messages do: branding's display name, else the name. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { clientConfigSchema } from '../../clients/client.schema.ts';
import { previewTemplates } from './template-preview.ts';

const example = JSON.parse(readFileSync(new URL('../../../test/fixtures/client-canonical-example.json', import.meta.url), 'utf8')) as Record<string, unknown>;
const now = new Date('2026-03-03T15:00:00Z');
const link = 'Thanks from {{business_name}}: {{link_url}}';

describe('template preview', () => {
  it('names the business by its display name when branding sets one, as the sent messages do', () => {
    const config = clientConfigSchema.parse({ ...example, name: 'Bright Smile Dental LLC', branding: { display_name: 'Bright Smile' } });
    const preview = previewTemplates(config, { sms: { link } }, now);
    expect(preview.sample.business_name).toBe('Bright Smile');
    expect(preview.sms.find((s) => s.name === 'link')?.text).toMatch(/^Thanks from Bright Smile: https:/);
  });

  it('names it by its name without branding', () => {
    const config = clientConfigSchema.parse({ ...example, name: 'Bright Smile Dental LLC', branding: undefined });
    expect(previewTemplates(config, { sms: { link } }, now).sample.business_name).toBe('Bright Smile Dental LLC');
  });
});
