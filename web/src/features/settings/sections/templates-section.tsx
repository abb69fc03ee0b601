import { useQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { asRecord } from '../settings-view.ts';
import { FieldError, SettingsSection, useFieldProps, useSettingsForm } from '../settings-form-context.tsx';
import { settingsQueries, type TemplatePreview, type TemplatesDraft } from '../settings.queries.ts';

const SMS_LABELS: Record<string, string> = {
  confirmation: 'Text after a booking',
  followup: 'Follow-up text after a call',
  link: 'Text with a link the caller asked for',
};
const EMAIL_LABELS: Record<string, string> = {
  summary: 'Call summary email to your staff',
  caller_followup: 'Follow-up email to the caller',
  message_taken: 'Message-taken email to your staff',
};

type EmailOverride = { subject?: string; text?: string; html?: string };

/** The value after `ms` without changes (the preview is asked for when typing pauses). */
function useDebounced<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return settled;
}

/**
 * SMS and email templates, each beside a live preview that the server renders with its sending
 * code and sample call data (so the preview is what a caller receives). Problems the server would
 * refuse on save (unknown variables, too many SMS segments) show under the template as you type.
 */
export function TemplatesSection() {
  const { clientId, draft, setKey } = useSettingsForm();
  const templates = asRecord(draft.templates) as NonNullable<TemplatesDraft>;
  const settled = useDebounced(templates, 300);
  const defaults = useQuery(settingsQueries.preview(clientId, {}));
  const preview = useQuery(settingsQueries.preview(clientId, settled));
  const sms = asRecord(templates.sms) as Record<string, string>;
  const email = asRecord(templates.email) as Record<string, EmailOverride>;

  const setSms = (name: string, value: string | undefined) => {
    const next = { ...sms };
    if (value === undefined) delete next[name];
    else next[name] = value;
    setKey('templates', { ...templates, sms: next });
  };
  const setEmail = (name: string, field: 'subject' | 'text', value: string | undefined) => {
    const override: EmailOverride = { ...email[name] };
    if (value === undefined) delete override[field];
    else override[field] = value;
    const next = { ...email };
    if (Object.keys(override).length === 0) delete next[name];
    else next[name] = override;
    setKey('templates', { ...templates, email: next });
  };

  if (defaults.isPending) return <SettingsSection id="templates" title="Messages">{<p role="status">Loading templates…</p>}</SettingsSection>;
  if (defaults.data === undefined) {
    return (
      <SettingsSection id="templates" title="Messages">
        <p className="form-error" role="alert">
          The templates could not be loaded. {defaults.error instanceof Error ? defaults.error.message : ''}
        </p>
      </SettingsSection>
    );
  }
  const variables = Object.keys(defaults.data.sample).map((name) => `{{${name}}}`).join(' ');
  return (
    <SettingsSection
      id="templates"
      title="Messages"
      description={
        <>
          Texts and emails sent after calls. Use <code>{'{{variables}}'}</code>: <span className="variables">{variables}</span>. The preview uses sample call data and is exactly what a caller receives.
        </>
      }
    >
      {preview.error ? (
        <p className="form-error" role="alert">
          Preview unavailable: {preview.error instanceof Error ? preview.error.message : 'try again'}
        </p>
      ) : null}
      {defaults.data.sms.map((entry) => (
        <SmsTemplate
          key={entry.name}
          name={entry.name}
          value={sms[entry.name] ?? entry.template}
          overridden={sms[entry.name] !== undefined}
          preview={preview.data?.sms.find((p) => p.name === entry.name)}
          issues={preview.data?.issues ?? []}
          onChange={(value) => setSms(entry.name, value)}
        />
      ))}
      {defaults.data.email.map((entry) => (
        <EmailTemplate
          key={entry.name}
          name={entry.name}
          subject={email[entry.name]?.subject ?? entry.template.subject}
          text={email[entry.name]?.text ?? entry.template.text}
          overridden={email[entry.name] !== undefined}
          preview={preview.data?.email.find((p) => p.name === entry.name)}
          issues={preview.data?.issues ?? []}
          onChange={(field, value) => setEmail(entry.name, field, value)}
          onReset={() => {
            setEmail(entry.name, 'subject', undefined);
            setEmail(entry.name, 'text', undefined);
          }}
        />
      ))}
    </SettingsSection>
  );
}

function PreviewIssue({ path, issues }: { path: string; issues: TemplatePreview['issues'] }) {
  const { errorFor } = useSettingsForm();
  const issue = issues.find((i) => i.path === path);
  // The server's answer to a save takes precedence (FieldError shows it).
  if (issue === undefined || errorFor(path) !== undefined) return null;
  return <small className="field-error">{issue.message}</small>;
}

function SmsTemplate({ name, value, overridden, preview, issues, onChange }: { name: string; value: string; overridden: boolean; preview: TemplatePreview['sms'][number] | undefined; issues: TemplatePreview['issues']; onChange: (value: string | undefined) => void }) {
  const { disabled } = useSettingsForm();
  const path = `$.templates.sms.${name}`;
  const props = useFieldProps(path);
  const label = SMS_LABELS[name] ?? `Text “${name}”`;
  return (
    <div className="template">
      <div className="field">
        <label htmlFor={props.id}>{label}</label>
        <textarea {...props} rows={3} value={value} disabled={disabled} onChange={(event) => onChange(event.target.value)} />
        <FieldError path={path} />
        <PreviewIssue path={path} issues={issues} />
        {overridden ? (
          <button type="button" className="button button-small button-quiet" disabled={disabled} onClick={() => onChange(undefined)}>
            Use the default {label.toLowerCase()}
          </button>
        ) : null}
      </div>
      <figure className="template-preview" aria-label={`Preview: ${label}`}>
        <figcaption className="muted small">
          Preview{preview ? ` · ${preview.segments} SMS segment${preview.segments === 1 ? '' : 's'} (${preview.encoding})` : ''}
        </figcaption>
        <p className="sms-bubble">{preview?.text ?? '…'}</p>
      </figure>
    </div>
  );
}

function EmailTemplate({
  name,
  subject,
  text,
  overridden,
  preview,
  issues,
  onChange,
  onReset,
}: {
  name: string;
  subject: string;
  text: string;
  overridden: boolean;
  preview: TemplatePreview['email'][number] | undefined;
  issues: TemplatePreview['issues'];
  onChange: (field: 'subject' | 'text', value: string) => void;
  onReset: () => void;
}) {
  const { disabled } = useSettingsForm();
  const base = `$.templates.email.${name}`;
  const subjectProps = useFieldProps(`${base}.subject`);
  const textProps = useFieldProps(`${base}.text`);
  const label = EMAIL_LABELS[name] ?? `Email “${name}”`;
  return (
    <fieldset className="template">
      <legend>{label}</legend>
      <div>
        <div className="field">
          <label htmlFor={subjectProps.id}>Subject</label>
          <input {...subjectProps} type="text" value={subject} disabled={disabled} onChange={(event) => onChange('subject', event.target.value)} />
          <FieldError path={`${base}.subject`} />
          <PreviewIssue path={`${base}.subject`} issues={issues} />
        </div>
        <div className="field">
          <label htmlFor={textProps.id}>Text</label>
          <textarea {...textProps} rows={6} value={text} disabled={disabled} onChange={(event) => onChange('text', event.target.value)} />
          <FieldError path={`${base}.text`} />
          <PreviewIssue path={`${base}.text`} issues={issues} />
        </div>
        {overridden ? (
          <button type="button" className="button button-small button-quiet" disabled={disabled} onClick={onReset}>
            Use the default {label.toLowerCase()}
          </button>
        ) : null}
      </div>
      <figure className="template-preview" aria-label={`Preview: ${label}`}>
        <figcaption className="muted small">Preview</figcaption>
        <p className="email-subject">{preview?.subject ?? '…'}</p>
        {/* It scrolls past 18rem: a named, focusable region so the keyboard can scroll it too. */}
        <pre className="email-text" tabIndex={0} role="region" aria-label={`Preview text: ${label}`}>
          {preview?.text ?? ''}
        </pre>
      </figure>
    </fieldset>
  );
}
