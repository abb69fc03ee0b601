import { asRecord } from '../settings-view.ts';
import { FieldError, SettingsSection, useFieldProps, useSettingsForm } from '../settings-form-context.tsx';

const PATH = '$.notifications.business_email';

/** Where the staff's call summaries go. */
export function NotificationsSection() {
  const { draft, setKey, disabled } = useSettingsForm();
  const notifications = asRecord(draft.notifications);
  const props = useFieldProps(PATH, { help: true });
  const value = typeof notifications.business_email === 'string' ? notifications.business_email : '';
  return (
    <SettingsSection id="notifications" title="Notifications">
      <div className="field">
        <label htmlFor={props.id}>Send call summaries to</label>
        <input
          {...props}
          type="email"
          autoComplete="email"
          value={value}
          disabled={disabled}
          onChange={(event) => {
            const next = { ...notifications };
            if (event.target.value === '') delete next.business_email;
            else next.business_email = event.target.value;
            setKey('notifications', next);
          }}
        />
        <small id={`${props.id}-help`} className="field-help">
          An email address; leave empty to send no summaries.
        </small>
        <FieldError path={PATH} />
      </div>
    </SettingsSection>
  );
}
