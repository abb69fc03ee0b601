import { describe, expect, it } from 'vitest';
import { testClientConfig, uniqueId } from '../../test/helpers/test-app.ts';
import { clientConfigSchema } from '../clients/client.schema.ts';
import { retellToolsFor } from './tool-definitions.ts';

const BASE = 'https://api.xlnc.example';

function toolsFor(overrides: Record<string, unknown> = {}, id = uniqueId('tools')) {
  const config = clientConfigSchema.parse(testClientConfig(id, overrides));
  return { id, tools: retellToolsFor({ id, config }, BASE) };
}

const names = (tools: { name: string }[]) => tools.map((t) => t.name);

describe('retellToolsFor', () => {
  it('lists the booking built-ins with booking on, each as a Retell custom tool on this client URL', () => {
    const { id, tools } = toolsFor();
    expect(names(tools)).toEqual(
      expect.arrayContaining(['check_availability', 'book_appointment', 'find_appointment', 'reschedule_appointment', 'cancel_appointment', 'get_business_info', 'take_message']),
    );
    // No links configured: nothing to text.
    expect(names(tools)).not.toContain('send_sms_link');
    const book = tools.find((t) => t.name === 'book_appointment');
    expect(book).toMatchObject({
      type: 'custom',
      url: `${BASE}/api/webhooks/retell/${id}/functions/book_appointment`,
      method: 'POST',
      args_at_root: false,
      speak_during_execution: true,
      execution_message_type: 'prompt',
      speak_after_execution: true,
      timeout_ms: 8000,
      max_retry: 0,
    });
    expect(book?.parameters).toMatchObject({ type: 'object', required: expect.arrayContaining(['name', 'start']) });
    expect(tools.find((t) => t.name === 'get_business_info')?.timeout_ms).toBe(5000);
    for (const tool of tools) {
      expect(tool.description.length).toBeGreaterThan(0);
      expect(tool.execution_message_description.length).toBeGreaterThan(0);
      expect(tool.name).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
    }
  });

  it('leaves the booking built-ins out with booking off', () => {
    const { tools } = toolsFor({ features: { booking: false } });
    expect(names(tools)).not.toEqual(expect.arrayContaining(['check_availability']));
    for (const name of ['check_availability', 'book_appointment', 'find_appointment', 'reschedule_appointment', 'cancel_appointment']) {
      expect(names(tools)).not.toContain(name);
    }
    expect(names(tools)).toEqual(expect.arrayContaining(['get_business_info', 'take_message']));
  });

  it('leaves out a built-in the client switched off, and uses a description override', () => {
    const { tools } = toolsFor({
      functions: [
        { kind: 'builtin', name: 'take_message', enabled: false },
        { kind: 'builtin', name: 'get_business_info', description: 'Hours and address of Acme.' },
      ],
    });
    expect(names(tools)).not.toContain('take_message');
    expect(tools.find((t) => t.name === 'get_business_info')?.description).toBe('Hours and address of Acme.');
  });

  it('adds static and http functions with their own parameters', () => {
    const parameters = { type: 'object', properties: { order_id: { type: 'string', description: 'Order number' } }, required: ['order_id'] };
    const { id, tools } = toolsFor({
      functions: [
        { kind: 'static', name: 'parking_info', description: 'Where to park.', response: 'Park behind the building.' },
        { kind: 'http', name: 'order_status', description: 'Look up an order.', parameters, url: 'https://hooks.acme.example/order', secret: 'whsec_c2VjcmV0', timeout_ms: 3000 },
      ],
    });
    const parking = tools.find((t) => t.name === 'parking_info');
    expect(parking).toMatchObject({ url: `${BASE}/api/webhooks/retell/${id}/functions/parking_info`, parameters: { type: 'object', properties: {} }, timeout_ms: 5000 });
    const order = tools.find((t) => t.name === 'order_status');
    expect(order).toMatchObject({ url: `${BASE}/api/webhooks/retell/${id}/functions/order_status`, parameters, description: 'Look up an order.' });
    // Longer than the endpoint's own deadline, so our apology arrives before Retell gives up.
    expect(order?.timeout_ms).toBeGreaterThan(3000);
    // The client's endpoint and secret never reach Retell.
    expect(JSON.stringify(tools)).not.toContain('hooks.acme.example');
    expect(JSON.stringify(tools)).not.toContain('whsec_');
  });

  it('gives every tool a JSON-Schema object as parameters', () => {
    const { tools } = toolsFor({
      business: { links: { upload_page: 'https://acme.example/upload' } },
      sms: { enabled: true, provider: 'twilio', account_sid: 'AC0123456789abcdef0123456789abcdef', auth_token: 'token', from_number: '+14155550100' },
      functions: [{ kind: 'static', name: 'parking_info', description: 'Where to park.', response: 'Park behind the building.' }],
    });
    expect(names(tools)).toContain('send_sms_link');
    for (const tool of tools) {
      expect(tool.parameters).toMatchObject({ type: 'object' });
      expect(typeof tool.parameters.properties).toBe('object');
      expect(tool.parameters).not.toHaveProperty('$schema');
      // Plain JSON: what we print is what Retell receives.
      expect(JSON.parse(JSON.stringify(tool.parameters))).toEqual(tool.parameters);
    }
  });

  it('puts each client id in its own URLs', () => {
    const a = toolsFor();
    const b = toolsFor();
    expect(a.tools.every((t) => t.url.includes(`/retell/${a.id}/functions/`))).toBe(true);
    expect(b.tools.every((t) => t.url.includes(`/retell/${b.id}/functions/`))).toBe(true);
    expect(JSON.stringify(a.tools)).not.toContain(b.id);
  });

  it('does not double the slash when the base URL ends with one', () => {
    const id = uniqueId('tools');
    const config = clientConfigSchema.parse(testClientConfig(id));
    const [first] = retellToolsFor({ id, config }, `${BASE}/`);
    expect(first?.url.startsWith(`${BASE}/api/webhooks/retell/${id}/functions/`)).toBe(true);
  });
});
