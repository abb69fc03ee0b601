/**
 * What every section of the settings form shares: the draft, how to change one key of it, the
 * secrets being replaced, and the problem (if any) for a JSON path. A section is a component that
 * reads this context and edits its own key; see settings-sections.tsx for the list.
 */
import { createContext, useContext, type ReactNode } from 'react';
import type { ClientSettings } from './settings.queries.ts';
import { fieldId, type SettingsDraft } from './settings-draft.ts';

export interface SettingsFormState {
  clientId: string;
  settings: ClientSettings;
  draft: SettingsDraft;
  /** Replaces one editable key of the draft (and clears the server's complaints about it). */
  setKey: (key: string, value: unknown) => void;
  /** New values typed for stored secrets, by JSON path; never shown back. */
  secrets: Readonly<Record<string, string>>;
  setSecret: (path: string, value: string | undefined) => void;
  /** JSON paths of the stored secrets this user may replace (the API's `replaceable_secrets`). */
  replaceableSecrets: readonly string[];
  /** The problem shown beside the field holding this JSON path. */
  errorFor: (path: string) => string | undefined;
  disabled: boolean;
}

const SettingsFormContext = createContext<SettingsFormState | null>(null);

export function SettingsFormProvider({ value, children }: { value: SettingsFormState; children: ReactNode }) {
  return <SettingsFormContext.Provider value={value}>{children}</SettingsFormContext.Provider>;
}

export function useSettingsForm(): SettingsFormState {
  const state = useContext(SettingsFormContext);
  if (state === null) throw new Error('useSettingsForm outside the settings form');
  return state;
}

/** id, aria-invalid and aria-describedby for the control holding `path` (its error sits under it, see FieldError). */
export function useFieldProps(path: string, options: { suffix?: string; help?: boolean } = {}) {
  const { errorFor } = useSettingsForm();
  const base = fieldId(path);
  const error = errorFor(path);
  const described = [options.help ? `${base}-help` : null, error !== undefined ? `${base}-error` : null].filter(Boolean).join(' ');
  return {
    id: options.suffix ? `${base}-${options.suffix}` : base,
    'aria-invalid': error !== undefined ? true : undefined,
    'aria-describedby': described || undefined,
  } as const;
}

export function FieldError({ path }: { path: string }) {
  const { errorFor } = useSettingsForm();
  const error = errorFor(path);
  if (error === undefined) return null;
  return (
    <small id={`${fieldId(path)}-error`} className="field-error">
      {error}
    </small>
  );
}

/** One card of the form: a titled fieldset-like section. */
export function SettingsSection({ id, title, description, children }: { id: string; title: string; description?: ReactNode; children: ReactNode }) {
  return (
    <section className="card settings-section" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>{title}</h2>
      {description ? <p className="muted small">{description}</p> : null}
      {children}
    </section>
  );
}
