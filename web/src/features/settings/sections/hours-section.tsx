import { asRecord, asStrings } from '../settings-view.ts';
import type { Weekday } from '../settings-draft.ts';
import { WEEKDAYS } from '../settings-view.ts';
import { FieldError, SettingsSection, useFieldProps, useSettingsForm } from '../settings-form-context.tsx';

/** Opening hours per weekday: open or closed, and one or more open–close ranges. */
export function HoursSection() {
  const { draft, setKey, disabled } = useSettingsForm();
  const hours = asRecord(draft.business_hours);
  const setDay = (day: Weekday, ranges: string[]) => setKey('business_hours', { ...hours, [day]: ranges });
  return (
    <SettingsSection id="hours" title="Business hours" description="In the client’s timezone. The receptionist offers appointments and says you are open only in these hours.">
      <div className="hours-list">
        {WEEKDAYS.map(([day, label]) => (
          <DayHours key={day} day={day} label={label} ranges={asStrings(hours[day])} onChange={(ranges) => setDay(day, ranges)} disabled={disabled} />
        ))}
      </div>
    </SettingsSection>
  );
}

function DayHours({ day, label, ranges, onChange, disabled }: { day: Weekday; label: string; ranges: string[]; onChange: (ranges: string[]) => void; disabled: boolean }) {
  const open = ranges.length > 0;
  const dayPath = `$.business_hours.${day}`;
  return (
    <fieldset className="day-hours">
      <legend>{label}</legend>
      <label className="checkbox">
        <input type="checkbox" checked={open} disabled={disabled} onChange={(event) => onChange(event.target.checked ? ['09:00-17:00'] : [])} />
        Open
      </label>
      {open ? (
        <div className="ranges">
          {ranges.map((range, index) => (
            <TimeRange
              key={index}
              path={`${dayPath}[${index}]`}
              label={`${label}${ranges.length > 1 ? ` (${index + 1})` : ''}`}
              range={range}
              disabled={disabled}
              onChange={(next) => onChange(ranges.map((r, i) => (i === index ? next : r)))}
              onRemove={ranges.length > 1 ? () => onChange(ranges.filter((_, i) => i !== index)) : undefined}
            />
          ))}
          <button type="button" className="button button-small button-quiet" disabled={disabled} onClick={() => onChange([...ranges, '13:00-17:00'])}>
            Add hours on {label}
          </button>
        </div>
      ) : (
        <span className="muted small">Closed</span>
      )}
      <FieldError path={dayPath} />
    </fieldset>
  );
}

function TimeRange({ path, label, range, disabled, onChange, onRemove }: { path: string; label: string; range: string; disabled: boolean; onChange: (range: string) => void; onRemove: (() => void) | undefined }) {
  const [from = '', to = ''] = range.split('-');
  const openProps = useFieldProps(path, { suffix: 'open' });
  const closeProps = useFieldProps(path, { suffix: 'close' });
  return (
    <div className="time-range">
      <label className="field field-inline">
        <span>Opens</span>
        <input type="time" {...openProps} aria-label={`${label} opens`} value={from} disabled={disabled} onChange={(event) => onChange(`${event.target.value}-${to}`)} />
      </label>
      <label className="field field-inline">
        <span>Closes</span>
        <input type="time" {...closeProps} aria-label={`${label} closes`} value={to} disabled={disabled} onChange={(event) => onChange(`${from}-${event.target.value}`)} />
      </label>
      {onRemove ? (
        <button type="button" className="button button-small button-quiet" aria-label={`Remove ${label} hours ${from}–${to}`} disabled={disabled} onClick={onRemove}>
          Remove
        </button>
      ) : null}
      <FieldError path={path} />
    </div>
  );
}
