import { useState } from 'react';
import { asStrings } from '../settings-view.ts';
import { FieldError, SettingsSection, useFieldProps, useSettingsForm } from '../settings-form-context.tsx';
import { fieldId } from '../settings-draft.ts';

/** Closed dates: listed, removable, and a date picker to add one. */
export function HolidaysSection() {
  const { draft, setKey, disabled } = useSettingsForm();
  const holidays = asStrings(draft.holidays);
  const [adding, setAdding] = useState('');
  const add = () => {
    if (adding === '' || holidays.includes(adding)) return;
    setKey('holidays', [...holidays, adding].sort());
    setAdding('');
  };
  return (
    <SettingsSection id="holidays" title="Holidays" description="Dates you are closed all day; calls on these days are told you are closed.">
      {holidays.length === 0 ? <p className="muted">No holidays.</p> : null}
      <ul className="holiday-list">
        {holidays.map((date, index) => (
          <Holiday key={date} date={date} index={index} disabled={disabled} onRemove={() => setKey('holidays', holidays.filter((d) => d !== date))} />
        ))}
      </ul>
      <div className="field-row">
        <div className="field">
          <label htmlFor="holiday-new">Add a holiday</label>
          <input id="holiday-new" type="date" value={adding} disabled={disabled} onChange={(event) => setAdding(event.target.value)} onKeyDown={(event) => {
            if (event.key === 'Enter') {
              event.preventDefault();
              add();
            }
          }} />
        </div>
        <button type="button" className="button" disabled={disabled || adding === '' || holidays.includes(adding)} onClick={add}>
          Add
        </button>
      </div>
      <FieldError path="$.holidays" />
    </SettingsSection>
  );
}

function Holiday({ date, index, disabled, onRemove }: { date: string; index: number; disabled: boolean; onRemove: () => void }) {
  const path = `$.holidays[${index}]`;
  const props = useFieldProps(path);
  return (
    <li>
      <span id={fieldId(path)} aria-invalid={props['aria-invalid']} aria-describedby={props['aria-describedby']}>
        {date}
      </span>{' '}
      <button type="button" className="button button-small button-quiet" aria-label={`Remove holiday ${date}`} disabled={disabled} onClick={onRemove}>
        Remove
      </button>
      <FieldError path={path} />
    </li>
  );
}
