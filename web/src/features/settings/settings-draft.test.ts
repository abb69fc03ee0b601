import { describe, expect, it } from 'vitest';
import { changesBetween, draftFrom, fieldId, localIssues, mergePatchBetween } from './settings-draft.ts';

const keys = ['business_hours', 'holidays', 'notifications', 'templates', 'features'];

describe('settings draft', () => {
  it('holds every weekday and only the editable keys', () => {
    const draft = draftFrom({ business_hours: { mon: ['09:00-17:00'] }, holidays: [], retell: { api_key: '••••1234' } }, keys);
    expect(Object.keys(draft.business_hours as object)).toEqual(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']);
    expect(draft).not.toHaveProperty('retell');
  });

  it('sends only what changed, removals as null, arrays whole', () => {
    const loaded = draftFrom({ business_hours: { mon: ['09:00-17:00'] }, holidays: ['2030-01-01'], notifications: { business_email: 'a@b.co', summary_wait_minutes: 10 }, features: { booking: true } }, keys);
    const draft = {
      ...loaded,
      business_hours: { ...(loaded.business_hours as object), sat: ['10:00-14:00'] },
      notifications: { summary_wait_minutes: 10 },
      templates: { sms: { followup: 'Hi' } },
    };
    expect(changesBetween(loaded, draft)).toEqual({ business_hours: { sat: ['10:00-14:00'] }, notifications: { business_email: null }, templates: { sms: { followup: 'Hi' } } });
    expect(changesBetween(loaded, loaded)).toEqual({});
    expect(mergePatchBetween({ sms: { a: 'x', b: 'y' } }, { sms: { a: 'x' } })).toEqual({ sms: { b: null } });
  });

  it('names fields by JSON path and checks what is cheap', () => {
    expect(fieldId('$.business_hours.mon[0]')).toBe('field-business_hours-mon-0');
    expect(fieldId('$.templates.sms.followup')).toBe('field-templates-sms-followup');
    const issues = localIssues({ business_hours: { mon: ['17:00-09:00'], tue: ['-'] }, holidays: ['2030-01-01', '2030-01-01'], notifications: { business_email: 'nope' } });
    expect(issues.map((issue) => issue.path)).toEqual(['$.business_hours.mon[0]', '$.business_hours.tue[0]', '$.holidays[1]', '$.notifications.business_email']);
    expect(localIssues({ business_hours: { mon: ['09:00-24:00'] }, holidays: [], notifications: {} })).toEqual([]);
  });
});
