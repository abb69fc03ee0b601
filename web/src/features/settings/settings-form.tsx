import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useBlocker } from '@tanstack/react-router';
import { useMemo, useRef, useState, type FormEvent } from 'react';
import { api, isApiError } from '../../lib/api.ts';
import { SettingsFormProvider, type SettingsFormState } from './settings-form-context.tsx';
import { SETTINGS_SECTIONS } from './settings-sections.tsx';
import { settingsQueries, type ClientSettings, type EditableSettings } from './settings.queries.ts';
import { changesBetween, draftFrom, localIssues, type FieldIssue, type SettingsDraft } from './settings-draft.ts';

type Outcome = { kind: 'saved' } | { kind: 'conflict'; message: string } | { kind: 'error'; message: string } | null;

/**
 * The edit form of a database-backed client's settings: every section edits the draft; Save sends
 * the merge patch with the version it was loaded at (a stale version is a 409: reload), the server's
 * field problems show beside their fields, and leaving with unsaved changes asks first.
 */
export function SettingsForm({ clientId, settings, editable }: { clientId: string; settings: ClientSettings; editable: EditableSettings }) {
  const queryClient = useQueryClient();
  const [baseline, setBaseline] = useState<SettingsDraft>(() => draftFrom(settings.config, editable.editable_keys));
  const [draft, setDraft] = useState<SettingsDraft>(baseline);
  const [version, setVersion] = useState(editable.version ?? 0);
  const [replaceable, setReplaceable] = useState<readonly string[]>(editable.replaceable_secrets);
  const [secrets, setSecrets] = useState<Record<string, string>>({});
  const [serverIssues, setServerIssues] = useState<FieldIssue[]>([]);
  const [checked, setChecked] = useState(false);
  const [outcome, setOutcome] = useState<Outcome>(null);
  const summary = useRef<HTMLDivElement>(null);

  const changes = useMemo(() => changesBetween(baseline, draft), [baseline, draft]);
  const dirty = Object.keys(changes).length > 0 || Object.keys(secrets).length > 0;
  const local = useMemo(() => localIssues(draft), [draft]);
  const shown = checked ? [...serverIssues, ...local.filter((l) => !serverIssues.some((s) => s.path === l.path))] : serverIssues;

  useBlocker({
    shouldBlockFn: () => dirty && !window.confirm('You have unsaved changes to the settings. Leave without saving them?'),
    enableBeforeUnload: () => dirty,
  });

  const save = useMutation({
    mutationFn: () =>
      api.patch(
        '/api/clients/{clientId}/settings',
        { version, changes, ...(Object.keys(secrets).length > 0 ? { secrets } : {}) },
        { path: { clientId } },
      ),
    onSuccess: (answer) => {
      setBaseline(draft);
      setVersion(answer?.version ?? version + 1);
      setSecrets({});
      setServerIssues([]);
      setChecked(false);
      setOutcome({ kind: 'saved' });
      void queryClient.invalidateQueries({ queryKey: ['clients', clientId, 'settings'] });
      // The header wears the brand: a saved branding change shows at once.
      void queryClient.invalidateQueries({ queryKey: ['clients', clientId, 'branding'] });
    },
    onError: (caught) => {
      // Issues name fields: a 409 with them is a field conflict (a custom host another client holds),
      // not a stale version; a 403 with them a secret only a platform admin replaces.
      if ((isApiError(caught, 400) || isApiError(caught, 403) || isApiError(caught, 409)) && caught.issues.length > 0) {
        setServerIssues([...caught.issues]);
        setOutcome({ kind: 'error', message: 'Nothing was saved: fix the problems shown below.' });
      } else if (isApiError(caught, 409) && caught.code === 'conflict') {
        setOutcome({ kind: 'conflict', message: 'Someone changed these settings while you were editing. Nothing was saved. Reload to see their version, then make your change again.' });
      } else {
        setOutcome({ kind: 'error', message: isApiError(caught) && caught.status < 500 ? caught.message : 'Saving failed. Please try again.' });
      }
      requestAnimationFrame(() => summary.current?.focus());
    },
  });

  const reload = async () => {
    const [fresh, freshEditable] = await Promise.all([
      queryClient.fetchQuery({ ...settingsQueries.detail(clientId), staleTime: 0 }),
      queryClient.fetchQuery({ ...settingsQueries.editable(clientId), staleTime: 0 }),
    ]);
    const loaded = draftFrom(fresh.config, freshEditable.editable_keys);
    setBaseline(loaded);
    setDraft(loaded);
    setVersion(freshEditable.version ?? 0);
    setReplaceable(freshEditable.replaceable_secrets);
    setSecrets({});
    setServerIssues([]);
    setChecked(false);
    setOutcome(null);
  };

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    setOutcome(null);
    setChecked(true);
    if (local.length > 0) {
      setServerIssues([]);
      setOutcome({ kind: 'error', message: 'Nothing was saved: fix the problems shown below.' });
      requestAnimationFrame(() => summary.current?.focus());
      return;
    }
    save.mutate();
  };

  const state: SettingsFormState = {
    clientId,
    settings,
    draft,
    setKey: (key, value) => {
      setDraft((current) => ({ ...current, [key]: value }));
      setServerIssues((current) => current.filter((issue) => !issue.path.startsWith(`$.${key}`)));
      if (outcome?.kind === 'saved') setOutcome(null);
    },
    secrets,
    setSecret: (path, value) => {
      setSecrets((current) => {
        const next = { ...current };
        if (value === undefined) delete next[path];
        else next[path] = value;
        return next;
      });
      setServerIssues((current) => current.filter((issue) => issue.path !== path));
    },
    replaceableSecrets: replaceable,
    errorFor: (path) => shown.find((issue) => issue.path === path)?.message,
    disabled: save.isPending,
  };

  const sections = SETTINGS_SECTIONS.filter((section) => section.key === null || editable.editable_keys.includes(section.key));
  return (
    <SettingsFormProvider value={state}>
      <form className="settings-form" onSubmit={submit} noValidate aria-label="Edit settings">
        <div ref={summary} tabIndex={-1} className="form-outcome">
          {outcome?.kind === 'saved' ? (
            <p className="notice" role="status">
              Saved. The next call uses the new settings.
            </p>
          ) : null}
          {outcome?.kind === 'conflict' ? (
            <div className="card card-alert" role="alert">
              <p>{outcome.message}</p>
              <button type="button" className="button" onClick={() => void reload()}>
                Reload settings
              </button>
            </div>
          ) : null}
          {outcome?.kind === 'error' ? (
            <div className="card card-alert" role="alert">
              <p className="form-error">{outcome.message}</p>
              {shown.length > 0 ? (
                <ul>
                  {shown.map((issue) => (
                    <li key={`${issue.path}:${issue.message}`}>
                      <code>{issue.path}</code> {issue.message}
                    </li>
                  ))}
                </ul>
              ) : null}
            </div>
          ) : null}
        </div>
        {sections.map(({ id, Component }) => (
          <Component key={id} />
        ))}
        <div className="save-bar">
          <span className="muted small" aria-live="polite">
            {save.isPending ? 'Saving…' : dirty ? 'You have unsaved changes.' : 'No unsaved changes.'}
          </span>
          <button type="button" className="button" disabled={!dirty || save.isPending} onClick={() => {
            setDraft(baseline);
            setSecrets({});
            setServerIssues([]);
            setChecked(false);
            setOutcome(null);
          }}>
            Discard changes
          </button>
          <button type="submit" className="button button-primary" disabled={!dirty || save.isPending}>
            {save.isPending ? 'Saving…' : 'Save changes'}
          </button>
        </div>
      </form>
    </SettingsFormProvider>
  );
}
