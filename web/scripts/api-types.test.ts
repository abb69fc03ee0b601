import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/helpers/test-app.ts';
import { API_TYPES_FILE, apiTypesFromDocument } from './api-types-source.ts';

describe('the dashboard API types', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ pollIntervalMs: 0, watchClients: false });
  });
  afterAll(() => t.close());

  it('are what the current routes generate (run `npm run api:types` after changing a route schema)', async () => {
    const generated = await apiTypesFromDocument(t.app.swagger());
    expect(readFileSync(API_TYPES_FILE, 'utf8') === generated, 'web/src/lib/api-types.ts is stale: run `npm run api:types`').toBe(true);
  });
});
