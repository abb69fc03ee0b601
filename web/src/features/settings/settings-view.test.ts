import { describe, expect, it } from 'vitest';
import { featureSwitches, maskedSecrets, weeklyHours } from './settings-view.ts';

describe('settings view', () => {
  it('lists every weekday, closed when it has no hours', () => {
    const week = weeklyHours({ business_hours: { mon: ['09:00-12:00', '13:00-17:00'], sat: [] } });
    expect(week[0]).toEqual({ day: 'Monday', hours: '09:00 – 12:00, 13:00 – 17:00' });
    expect(week[5]).toEqual({ day: 'Saturday', hours: 'Closed' });
    expect(week).toHaveLength(7);
  });

  it('finds the masked secrets wherever they are, and only those', () => {
    const config = { retell: { api_key: '••••7890', agent_ids: ['a'] }, sms: { provider: 'twilio', auth_token: '••••abcd' }, name: 'x' };
    expect(maskedSecrets(config)).toEqual([
      { path: 'retell.api_key', value: '••••7890' },
      { path: 'sms.auth_token', value: '••••abcd' },
    ]);
  });

  it('reads feature switches', () => {
    expect(featureSwitches({ features: { booking: true, caller_email: false, junk: 'x' } })).toEqual([
      { name: 'booking', on: true },
      { name: 'caller_email', on: false },
    ]);
  });
});
