import { useState } from 'react';
import { fieldId, secretJsonPath } from '../settings-draft.ts';
import { FieldError, SettingsSection, useFieldProps, useSettingsForm } from '../settings-form-context.tsx';
import { maskedSecrets } from '../settings-view.ts';

const SECRET_LABELS: Record<string, string> = {
  'retell.api_key': 'Retell API key',
  'sms.auth_token': 'Twilio auth token',
  'sms.auth_key': 'Text180 auth key',
  'email.api_key': 'SendGrid API key',
  'calendar.oauth.client_secret': 'Zoho Calendar client secret',
  'calendar.oauth.refresh_token': 'Zoho Calendar refresh token',
  'email.oauth.client_secret': 'Zoho Mail client secret',
  'email.oauth.refresh_token': 'Zoho Mail refresh token',
  'alerts.slack_webhook_url': 'Slack alert webhook URL',
};

/**
 * Stored credentials: shown only as masks, never sent to the browser in full. "Replace" opens a
 * write-only field; the new value is sent on save, sealed by the server and never shown again.
 */
export function SecretsSection() {
  const { settings } = useSettingsForm();
  const secrets = maskedSecrets(settings.config ?? {});
  return (
    <SettingsSection id="secrets" title="Credentials" description="Stored encrypted and never shown; you can replace one with a new value (for example after rotating it at the provider).">
      {secrets.length === 0 ? (
        <p className="muted">None.</p>
      ) : (
        <ul className="secret-list">
          {secrets.map((secret) => (
            // Keyed by the mask too: a saved replacement shows a new mask and closes its field.
            <SecretRow key={`${secret.path}:${secret.value}`} dotted={secret.path} mask={secret.value} />
          ))}
        </ul>
      )}
    </SettingsSection>
  );
}

function SecretRow({ dotted, mask }: { dotted: string; mask: string }) {
  const { secrets, setSecret, disabled, replaceableSecrets } = useSettingsForm();
  const path = secretJsonPath(dotted);
  const label = SECRET_LABELS[dotted] ?? dotted;
  const replacing = secrets[path] !== undefined;
  const [open, setOpen] = useState(false);
  const props = useFieldProps(path, { help: true });
  return (
    <li className="secret-row">
      <div>
        <span className="secret-label">{label}</span> <span className="secret">{replacing ? 'new value on save' : mask}</span>
      </div>
      {!replaceableSecrets.includes(path) ? (
        <small className="field-help">
          {dotted === 'retell.api_key' ? 'It verifies the calls Retell sends for you: only your platform operator replaces it.' : 'Only your platform operator replaces this one.'}
        </small>
      ) : open || replacing ? (
        <div className="field">
          <label htmlFor={props.id}>New {label}</label>
          <input
            {...props}
            type="password"
            autoComplete="new-password"
            spellCheck={false}
            value={secrets[path] ?? ''}
            disabled={disabled}
            onChange={(event) => setSecret(path, event.target.value === '' ? undefined : event.target.value)}
          />
          <small id={`${fieldId(path)}-help`} className="field-help">
            Write-only: it is sealed when you save and never shown again.
          </small>
          <FieldError path={path} />
          <button
            type="button"
            className="button button-small button-quiet"
            disabled={disabled}
            onClick={() => {
              setSecret(path, undefined);
              setOpen(false);
            }}
          >
            Keep the current {label}
          </button>
        </div>
      ) : (
        <button type="button" className="button button-small" disabled={disabled} onClick={() => setOpen(true)}>
          Replace {label}
        </button>
      )}
    </li>
  );
}
