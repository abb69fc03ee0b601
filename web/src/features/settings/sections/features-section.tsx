import { humanize } from '../../../lib/format.ts';
import { asRecord, FEATURE_LABELS } from '../settings-view.ts';
import { SettingsSection, useSettingsForm } from '../settings-form-context.tsx';

/** On/off switches; a feature also needs its provider (texts, email) to be set up by the operator. */
export function FeaturesSection() {
  const { draft, setKey, disabled } = useSettingsForm();
  const features = asRecord(draft.features);
  return (
    <SettingsSection id="features" title="Features" description="A feature also needs its provider (texts, email) set up by your operator.">
      <div className="switch-list">
        {Object.entries(features)
          .filter(([, on]) => typeof on === 'boolean')
          .map(([name, on]) => (
            <label key={name} className="checkbox">
              <input type="checkbox" role="switch" checked={on === true} disabled={disabled} onChange={(event) => setKey('features', { ...features, [name]: event.target.checked })} />
              {FEATURE_LABELS[name] ?? humanize(name)}
            </label>
          ))}
      </div>
    </SettingsSection>
  );
}
