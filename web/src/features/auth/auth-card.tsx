import type { ReactNode } from 'react';
import { SignedOutBrand } from '../branding/signed-out-brand.tsx';

/** The centred card every signed-out page uses (sign in, first-run setup, invitations, password reset). */
export function AuthCard({ title, intro, children }: { title: string; intro?: ReactNode; children: ReactNode }) {
  return (
    <main className="login" id="main">
      <div className="login-card">
        <SignedOutBrand />
        <h1>{title}</h1>
        {intro !== undefined ? <p className="muted">{intro}</p> : null}
        {children}
      </div>
    </main>
  );
}

/** A text field's value from a submitted form ('' when absent). */
export function formText(form: FormData, name: string): string {
  const value = form.get(name);
  return typeof value === 'string' ? value : '';
}

interface TextFieldProps {
  label: string;
  name: string;
  type?: 'text' | 'email' | 'password';
  autoComplete?: string;
  help?: ReactNode;
  /** The server's complaint about this field, shown under it. */
  error?: string | undefined;
  autoFocus?: boolean;
  minLength?: number;
  defaultValue?: string;
  readOnly?: boolean;
}

/** A labelled input whose help and error sit under it, outside the label (the field's name stays just its label). */
export function TextField({ label, name, type = 'text', autoComplete = 'off', help, error, autoFocus, minLength, defaultValue, readOnly }: TextFieldProps) {
  const id = `field-${name}`;
  const described = [help !== undefined ? `${id}-help` : null, error !== undefined ? `${id}-error` : null].filter(Boolean).join(' ');
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        name={name}
        type={type}
        autoComplete={autoComplete}
        spellCheck={type === 'text' ? false : undefined}
        required={!readOnly}
        readOnly={readOnly}
        autoFocus={autoFocus}
        minLength={minLength}
        defaultValue={defaultValue}
        aria-invalid={error !== undefined ? true : undefined}
        aria-describedby={described || undefined}
      />
      {help !== undefined ? (
        <small id={`${id}-help`} className="field-help">
          {help}
        </small>
      ) : null}
      {error !== undefined ? (
        <small id={`${id}-error`} className="field-error">
          {error}
        </small>
      ) : null}
    </div>
  );
}
