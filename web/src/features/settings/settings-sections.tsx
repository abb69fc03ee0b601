/**
 * The sections of the settings form, in page order. A section is a component that edits one
 * editable key of the draft through useSettingsForm(); it is shown when the API lists its key in
 * `editable_keys` (null: always). Adding a section is a component and a line here.
 */
import type { ComponentType } from 'react';
import { BrandingSection } from './sections/branding-section.tsx';
import { FeaturesSection } from './sections/features-section.tsx';
import { HolidaysSection } from './sections/holidays-section.tsx';
import { HoursSection } from './sections/hours-section.tsx';
import { NotificationsSection } from './sections/notifications-section.tsx';
import { SecretsSection } from './sections/secrets-section.tsx';
import { TemplatesSection } from './sections/templates-section.tsx';

export interface SettingsSectionEntry {
  id: string;
  key: string | null;
  Component: ComponentType;
}

export const SETTINGS_SECTIONS: readonly SettingsSectionEntry[] = [
  { id: 'hours', key: 'business_hours', Component: HoursSection },
  { id: 'holidays', key: 'holidays', Component: HolidaysSection },
  { id: 'notifications', key: 'notifications', Component: NotificationsSection },
  { id: 'features', key: 'features', Component: FeaturesSection },
  { id: 'templates', key: 'templates', Component: TemplatesSection },
  { id: 'branding', key: 'branding', Component: BrandingSection },
  { id: 'secrets', key: null, Component: SecretsSection },
];
