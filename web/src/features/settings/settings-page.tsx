import { useQuery } from '@tanstack/react-query';
import { getRouteApi } from '@tanstack/react-router';
import { useState } from 'react';
import { formatPhone, humanize } from '../../lib/format.ts';
import { Badge } from '../../ui/badge.tsx';
import { PageHeader, QueryState } from '../../ui/states.tsx';
import { SettingsForm } from './settings-form.tsx';
import { environmentOf, settingsQueries, type ClientSettings, type EditableSettings } from './settings.queries.ts';
import { asRecord, asStrings, channelSummary, FEATURE_LABELS, featureSwitches, maskedSecrets, weeklyHours } from './settings-view.ts';

const route = getRouteApi('/app/c/$clientId/settings');

export function SettingsPage() {
  const { clientId } = route.useParams();
  const settings = useQuery(settingsQueries.detail(clientId));
  const editable = useQuery(settingsQueries.editable(clientId));
  // One state for both: the form needs the configuration and the version it was read at.
  const both = {
    data: settings.data && editable.data ? { settings: settings.data, editable: editable.data } : undefined,
    error: settings.error ?? editable.error,
    isPending: settings.isPending || editable.isPending,
    refetch: () => Promise.all([settings.refetch(), editable.refetch()]),
  };
  return (
    <>
      <PageHeader title="Settings" description="How your receptionist is set up. Secrets are never shown, only their last characters." />
      <QueryState query={both} loadingLabel="Loading settings…">
        {(data) => <SettingsBody clientId={clientId} settings={data.settings} editable={data.editable} />}
      </QueryState>
    </>
  );
}

function CopyField({ label, value }: { label: string; value: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <div className="copy-field">
      <span className="copy-label">{label}</span>
      <div className="copy-row">
        <code>{value}</code>
        <button
          type="button"
          className="button button-small"
          aria-label={`Copy ${label}`}
          onClick={() =>
            void navigator.clipboard.writeText(value).then(
              () => setCopied(true),
              () => setCopied(false),
            )
          }
        >
          {copied ? 'Copied' : 'Copy'}
        </button>
      </div>
    </div>
  );
}

function SettingsBody({ clientId, settings, editable }: { clientId: string; settings: ClientSettings; editable: EditableSettings }) {
  const config = settings.config ?? {};
  const environment = environmentOf(settings);
  const business = asRecord(config.business);
  const notifications = asRecord(config.notifications);
  const retell = asRecord(config.retell);
  const calendar = asRecord(config.calendar);
  const sms = channelSummary(config.sms);
  const email = channelSummary(config.email);
  const secrets = maskedSecrets(config);
  return (
    <div className="settings">
      {settings.issues.length > 0 ? (
        <section className="card card-alert" aria-labelledby="issues-title">
          <h2 id="issues-title">The configuration has problems</h2>
          <p>Calls are answered with “try again later” until these are fixed:</p>
          <ul>
            {settings.issues.map((issue) => (
              <li key={`${issue.path}:${issue.message}`}>
                <code>{issue.path}</code> {issue.message}
              </li>
            ))}
          </ul>
        </section>
      ) : null}

      <section className="card" aria-labelledby="account-title">
        <h2 id="account-title">Account</h2>
        <dl className="facts">
          <div>
            <dt>Business</dt>
            <dd>{settings.name}</dd>
          </div>
          <div>
            <dt>Mode</dt>
            <dd>
              {environment === 'test' ? (
                <>
                  <Badge tone="info">Test mode</Badge> <span className="muted small">messages are rendered, not sent</span>
                </>
              ) : environment === 'live' ? (
                <Badge tone="good">Live</Badge>
              ) : (
                '–'
              )}
            </dd>
          </div>
          <div>
            <dt>Status</dt>
            <dd>{humanize(settings.status)}</dd>
          </div>
          <div>
            <dt>Timezone</dt>
            <dd>{typeof config.timezone === 'string' ? config.timezone : '–'}</dd>
          </div>
          <div>
            <dt>Managed</dt>
            <dd>{editable.source === 'file' ? 'In a config file' : 'In the database'}</dd>
          </div>
        </dl>
        <p className="muted small">
          {editable.editable
            ? 'Change business hours, holidays, notifications, messages, features and credentials below; the next call uses them.'
            : editable.source === 'file'
              ? (
                  <>
                    These settings are read-only here: edit <code>{editable.file ?? `config/clients/${settings.client_id}.json`}</code> (changes load within 2 seconds).
                  </>
                )
              : 'These settings are read-only for your role; an admin of this business can change them.'}
        </p>
      </section>

      <section className="card" aria-labelledby="retell-title">
        <h2 id="retell-title">Retell setup</h2>
        <p className="muted">Paste these into your Retell agent: the webhook URL on the agent and its phone number, and each function’s URL on its custom function.</p>
        <CopyField label="Webhook URL" value={settings.retell.webhook_url} />
        {settings.retell.function_urls.map((fn) => (
          <CopyField key={fn.name} label={`Function ${fn.name}`} value={fn.url} />
        ))}
        <dl className="facts">
          <div>
            <dt>Agents</dt>
            <dd>{asStrings(retell.agent_ids).join(', ') || '–'}</dd>
          </div>
          <div>
            <dt>Phone numbers</dt>
            <dd>{asStrings(retell.phone_numbers).map(formatPhone).join(', ') || '–'}</dd>
          </div>
        </dl>
      </section>

      {editable.editable ? <SettingsForm clientId={clientId} settings={settings} editable={editable} /> : null}

      {editable.editable ? null : (
      <div className="two-columns">
        <section className="card" aria-labelledby="hours-title">
          <h2 id="hours-title">Business hours</h2>
          <table className="table table-compact">
            <caption className="visually-hidden">Opening hours by day</caption>
            <tbody>
              {weeklyHours(config).map((row) => (
                <tr key={row.day}>
                  <th scope="row">{row.day}</th>
                  <td>{row.hours}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <p className="muted small">Holidays: {asStrings(config.holidays).join(', ') || 'none'}</p>
        </section>

        <section className="card" aria-labelledby="messages-title">
          <h2 id="messages-title">Follow-ups</h2>
          <dl className="facts">
            <div>
              <dt>Call summaries go to</dt>
              <dd>{typeof notifications.business_email === 'string' ? notifications.business_email : 'Nobody (no address set)'}</dd>
            </div>
            <div>
              <dt>Texts</dt>
              <dd>{sms.provider ? `${sms.enabled ? 'On' : 'Off'} (${humanize(sms.provider)})` : 'Not set up'}</dd>
            </div>
            <div>
              <dt>Emails</dt>
              <dd>{email.provider ? `${email.enabled ? 'On' : 'Off'} (${humanize(email.provider)})` : 'Not set up'}</dd>
            </div>
            <div>
              <dt>Calendar</dt>
              <dd>{typeof calendar.provider === 'string' ? (calendar.provider === 'internal' ? 'Built-in appointment book' : humanize(calendar.provider)) : '–'}</dd>
            </div>
            {featureSwitches(config).map((feature) => (
              <div key={feature.name}>
                <dt>{FEATURE_LABELS[feature.name] ?? humanize(feature.name)}</dt>
                <dd>{feature.on ? 'On' : 'Off'}</dd>
              </div>
            ))}
          </dl>
        </section>
      </div>
      )}

      <section className="card" aria-labelledby="business-title">
        <h2 id="business-title">What the receptionist tells callers</h2>
        <dl className="facts">
          <div>
            <dt>Address</dt>
            <dd>{typeof business.address === 'string' ? business.address : '–'}</dd>
          </div>
          <div>
            <dt>Website</dt>
            <dd>{typeof business.website === 'string' ? business.website : '–'}</dd>
          </div>
          <div>
            <dt>Services</dt>
            <dd>{asStrings(business.services).join(', ') || '–'}</dd>
          </div>
        </dl>
      </section>

      <section className="card" aria-labelledby="secrets-title">
        <h2 id="secrets-title">{editable.editable ? 'All settings' : 'Credentials on file'}</h2>
        {editable.editable ? null : secrets.length === 0 ? (
          <p className="muted">None.</p>
        ) : (
          <ul className="secret-list">
            {secrets.map((secret) => (
              <li key={secret.path}>
                <code>{secret.path}</code> <span className="secret">{secret.value}</span>
              </li>
            ))}
          </ul>
        )}
        <details>
          <summary>All settings (JSON, secrets masked)</summary>
          <pre className="json">{JSON.stringify(config, null, 2)}</pre>
        </details>
      </section>
    </div>
  );
}
