/**
 * A list's filter form whose state is the URL: the fields start from the URL (the form is keyed on
 * it, so Back or a shared link resets them), submitting hands over what was entered, and Clear
 * shows while anything is filtered.
 */
import type { FormEvent, ReactNode } from 'react';

/** A submitted field's text, trimmed; undefined when empty, so that it leaves the URL. */
export type FieldValue = (name: string) => string | undefined;

export function FilterBar({
  label,
  urlKey,
  submitLabel = 'Apply',
  role,
  onApply,
  onClear,
  children,
}: {
  label: string;
  /** The URL state the fields start from: a change (Back, a shared link) starts them again. */
  urlKey: string;
  submitLabel?: string;
  role?: 'search';
  onApply: (value: FieldValue) => void;
  /** Shown as "Clear" when given: pass it only while something is filtered. */
  onClear?: (() => void) | undefined;
  children: ReactNode;
}) {
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    onApply((name) => {
      const value = form.get(name);
      return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
    });
  };
  return (
    <form key={urlKey} className="filters" role={role} onSubmit={submit} aria-label={label}>
      {children}
      <div className="filter-actions">
        <button type="submit" className="button button-primary">
          {submitLabel}
        </button>
        {onClear ? (
          <button type="button" className="button button-quiet" onClick={onClear}>
            Clear
          </button>
        ) : null}
      </div>
    </form>
  );
}

/** The free-text field of a filter bar: submitted as `q`. */
export function SearchField({ value, placeholder }: { value: string | undefined; placeholder: string }) {
  return (
    <label className="field field-grow">
      <span>Search</span>
      <input type="search" name="q" defaultValue={value ?? ''} placeholder={placeholder} />
    </label>
  );
}
