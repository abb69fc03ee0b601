import { useState } from 'react';
import { readableForeground, readableTextColor } from '../../../../../src/clients/brand-colors.ts';
import { brandInitial } from '../../branding/brand-theme.ts';
import { asRecord } from '../settings-view.ts';
import { BRAND_COLOR_PATTERN } from '../settings-draft.ts';
import { FieldError, SettingsSection, useFieldProps, useSettingsForm } from '../settings-form-context.tsx';

/** The platform's color, shown while no (valid) brand color is typed. */
const PLATFORM_COLOR = '#1d4ed8';

type BrandingKey = 'display_name' | 'logo_url' | 'primary_color' | 'custom_host';

/**
 * White-label: the name, logo and color the client's pages and emails wear, and the host of its own
 * portal. A swatch previews the brand with the text colors the server will derive from it (the same
 * contrast functions), so what is shown is what signed-in users and emails get.
 */
export function BrandingSection() {
  const { draft, setKey, settings } = useSettingsForm();
  const branding = asRecord(draft.branding);
  const text = (key: BrandingKey) => (typeof branding[key] === 'string' ? branding[key] : '');
  const set = (key: BrandingKey, value: string) => {
    const next = { ...branding };
    if (value.trim() === '') delete next[key];
    else next[key] = value;
    setKey('branding', next);
  };
  const color = BRAND_COLOR_PATTERN.test(text('primary_color')) ? text('primary_color').toLowerCase() : PLATFORM_COLOR;
  const name = text('display_name').trim() || settings.name || settings.client_id;
  const logo = text('logo_url').startsWith('https://') ? text('logo_url') : null;
  return (
    <SettingsSection id="branding" title="Branding" description="How your dashboard, sign-in pages and account emails look to your staff.">
      <div className="branding-grid">
        <div className="branding-fields">
          <TextField path="$.branding.display_name" label="Display name" help={`Shown in the header and emails; empty: “${settings.name ?? settings.client_id}”.`} value={text('display_name')} onChange={(v) => set('display_name', v)} />
          <TextField path="$.branding.logo_url" label="Logo URL" type="url" help="An https:// address of a square SVG or PNG; empty: the initial of the name." value={text('logo_url')} onChange={(v) => set('logo_url', v)} />
          <ColorField value={text('primary_color')} onChange={(v) => set('primary_color', v)} />
          <TextField
            path="$.branding.custom_host"
            label="Custom host (optional)"
            help="Your own portal address, e.g. portal.example.com, with its DNS pointed at this platform. No https:// or path."
            value={text('custom_host')}
            onChange={(v) => set('custom_host', v)}
          />
        </div>
        <figure className="brand-preview" aria-label="Preview: branding">
          <figcaption className="muted small">Preview</figcaption>
          <div className="brand-preview-bar">
            {logo !== null ? <PreviewLogo src={logo} /> : null}
            {logo === null ? (
              <span className="brand-mark" style={{ background: color, color: readableForeground(color) }} aria-hidden="true">
                {brandInitial(name)}
              </span>
            ) : null}
            <span className="brand-name">{name}</span>
          </div>
          <p className="brand-preview-sample">
            <span className="brand-swatch-button" style={{ background: color, color: readableForeground(color) }}>
              Sign in
            </span>{' '}
            <span className="brand-swatch-link" style={{ color: readableTextColor(color) }}>
              A link
            </span>
          </p>
          <p className="muted small">
            Color <code>{color}</code>
            {text('custom_host') ? (
              <>
                {' '}
                · portal at <code>{text('custom_host').toLowerCase()}</code>
              </>
            ) : null}
          </p>
        </figure>
      </div>
    </SettingsSection>
  );
}

/** The typed logo: a broken address shows nothing rather than a broken image. */
function PreviewLogo({ src }: { src: string }) {
  const [broken, setBroken] = useState<string | null>(null);
  if (broken === src) return null;
  return <img className="brand-logo" src={src} alt="" onError={() => setBroken(src)} />;
}

function TextField({ path, label, help, value, type = 'text', onChange }: { path: string; label: string; help: string; value: string; type?: 'text' | 'url'; onChange: (value: string) => void }) {
  const { disabled } = useSettingsForm();
  const props = useFieldProps(path, { help: true });
  return (
    <div className="field">
      <label htmlFor={props.id}>{label}</label>
      <input {...props} type={type} spellCheck={false} autoComplete="off" value={value} disabled={disabled} onChange={(event) => onChange(event.target.value)} />
      <small id={`${props.id}-help`} className="field-help">
        {help}
      </small>
      <FieldError path={path} />
    </div>
  );
}

/** The color as #rrggbb text (what the API takes) beside the browser's color picker, kept in step. */
function ColorField({ value, onChange }: { value: string; onChange: (value: string) => void }) {
  const { disabled } = useSettingsForm();
  const path = '$.branding.primary_color';
  const props = useFieldProps(path, { help: true });
  return (
    <div className="field">
      <label htmlFor={props.id}>Primary color</label>
      <div className="color-row">
        <input {...props} type="text" spellCheck={false} autoComplete="off" placeholder={PLATFORM_COLOR} value={value} disabled={disabled} onChange={(event) => onChange(event.target.value)} />
        <input
          type="color"
          aria-label="Pick the primary color"
          value={BRAND_COLOR_PATTERN.test(value) ? value.toLowerCase() : PLATFORM_COLOR}
          disabled={disabled}
          onChange={(event) => onChange(event.target.value)}
        />
      </div>
      <small id={`${props.id}-help`} className="field-help">
        Buttons, links and focus rings, as #rrggbb; text on it is white or dark, whichever reads better. Empty: the platform’s blue.
      </small>
      <FieldError path={path} />
    </div>
  );
}
