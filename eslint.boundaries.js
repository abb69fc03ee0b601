/**
 * The platform's boundaries, enforced by `npm run lint` (house style 15c):
 * 1. no import cycles in src/ (import-x/no-cycle: runtime imports; `import type` is erased);
 * 2. src/platform/ is infrastructure: it imports nothing else from src/;
 * 3. the composition root (src/deps.ts) is imported only by the process shells, app.ts and route
 *    plugins: services, repos, jobs and adapters receive narrow contexts instead;
 * 4. a capability imports another capability's services, never its `*.repo.ts`;
 * 5. a table is written only by its owner's repo (drizzle insert/update/delete or raw SQL).
 * test/**, bench/** and *.test.ts are exempt from 3-5: tests set up and inspect rows directly.
 * test/lint-boundaries.test.ts shows each rule failing on an injected breach.
 */

/** Capability folders under src/ (a folder's repos are private to it). */
export const CAPABILITIES = [
  'admin',
  'alerts',
  'analytics',
  'auth',
  'calls',
  'client-api',
  'clients',
  'core',
  'customers',
  'dashboard',
  'functions',
  'integrations',
  'live',
  'messages',
  'onboarding',
  'ops',
  'outbound-webhooks',
  'webhooks',
];

/** Every table, by its drizzle export and SQL name, with the one repo that writes it. */
export const TABLE_OWNERS = [
  { table: 'clients', sql: 'clients', owner: 'src/clients/clients.repo.ts' },
  { table: 'calls', sql: 'calls', owner: 'src/calls/calls.repo.ts' },
  { table: 'callEvents', sql: 'call_events', owner: 'src/calls/calls.repo.ts' },
  { table: 'workflowRuns', sql: 'workflow_runs', owner: 'src/calls/calls.repo.ts' },
  { table: 'customers', sql: 'customers', owner: 'src/customers/customers.repo.ts' },
  { table: 'appointments', sql: 'appointments', owner: 'src/integrations/calendar/calendar.repo.ts' },
  { table: 'messages', sql: 'messages', owner: 'src/messages/messages.repo.ts' },
  { table: 'functionCalls', sql: 'function_calls', owner: 'src/functions/functions.repo.ts' },
  { table: 'integrationStatus', sql: 'integration_status', owner: 'src/integrations/integration-health.repo.ts' },
  { table: 'users', sql: 'users', owner: 'src/auth/auth.repo.ts' },
  { table: 'refreshTokens', sql: 'refresh_tokens', owner: 'src/auth/auth.repo.ts' },
  { table: 'clientConfigs', sql: 'client_configs', owner: 'src/admin/db-clients.repo.ts' },
  { table: 'auditLog', sql: 'audit_log', owner: 'src/admin/audit.repo.ts' },
  { table: 'domainEvents', sql: 'domain_events', owner: 'src/core/outbox.repo.ts' },
  { table: 'domainEventSequences', sql: 'domain_event_sequences', owner: 'src/core/outbox.repo.ts' },
  { table: 'alerts', sql: 'alerts', owner: 'src/alerts/alerts.repo.ts' },
  { table: 'zohoConnections', sql: 'zoho_connections', owner: 'src/onboarding/zoho-connections.repo.ts' },
  { table: 'webhookSubscriptions', sql: 'webhook_subscriptions', owner: 'src/outbound-webhooks/outbound-webhooks.repo.ts' },
  { table: 'webhookDeliveries', sql: 'webhook_deliveries', owner: 'src/outbound-webhooks/outbound-webhooks.repo.ts' },
  { table: 'webhookDeliveryAttempts', sql: 'webhook_delivery_attempts', owner: 'src/outbound-webhooks/outbound-webhooks.repo.ts' },
  // Kept by migration 0019's triggers; analytics.repo.ts only reads them and calls analytics_rebuild().
  { table: 'analyticsCallEntries', sql: 'analytics_call_entries', owner: 'src/analytics/analytics.repo.ts' },
  { table: 'analyticsRollups', sql: 'analytics_rollups', owner: 'src/analytics/analytics.repo.ts' },
  { table: 'analyticsMessageRollups', sql: 'analytics_message_rollups', owner: 'src/analytics/analytics.repo.ts' },
  { table: 'analyticsFunctionRollups', sql: 'analytics_function_rollups', owner: 'src/analytics/analytics.repo.ts' },
];

const EXEMPT = ['test/**', 'bench/**', '**/*.test.ts'];

function writeSelectors(tables) {
  return tables.flatMap(({ table, sql, owner }) => {
    const message = `The ${sql} table is written only by ${owner}: call its service.`;
    const sqlWrite = `/\\b(insert\\s+into|update|delete\\s+from)\\s+${sql}\\b/i`;
    return [
      {
        selector: `CallExpression[callee.type='MemberExpression'][callee.property.name=/^(insert|update|delete)$/][arguments.0.name='${table}']`,
        message,
      },
      { selector: `TemplateElement[value.raw=${sqlWrite}]`, message },
      { selector: `Literal[value=${sqlWrite}]`, message },
    ];
  });
}

export function boundaryConfigs({ importX, createNodeResolver, root }) {
  const owners = [...new Set(TABLE_OWNERS.map((entry) => entry.owner))];
  const foreignRepoZones = CAPABILITIES.map((name) => ({
    target: `src/${name}/**`,
    from: [`src/!(${name})/**/*.repo.ts`],
    message: `src/${name} may use another capability's service, not its repo.`,
  }));
  const platformZone = { target: 'src/platform', from: 'src', except: ['./platform'], message: 'src/platform/ is infrastructure and imports no capability.' };
  const depsZone = {
    target: 'src/**',
    from: ['src/deps.ts'],
    except: [],
    message: 'Only the process shells, app.ts and route plugins see the composition root; pass a narrow context.',
  };
  const restrictedPaths = (zones) => ['error', { basePath: root, zones }];
  return [
    {
      files: ['src/**/*.ts'],
      plugins: { 'import-x': importX },
      settings: { 'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js'] })], 'import-x/ignore': ['node_modules'], 'import-x/extensions': ['.ts'] },
      rules: {
        'import-x/no-cycle': ['error', { ignoreExternal: true }],
        'import-x/no-restricted-paths': restrictedPaths([platformZone, depsZone, ...foreignRepoZones]),
        'no-restricted-syntax': ['error', ...writeSelectors(TABLE_OWNERS)],
      },
    },
    // The composition root's readers.
    {
      files: ['src/main.ts', 'src/worker.ts', 'src/cli.ts', 'src/app.ts', 'src/**/*.routes.ts', 'src/client-api/openapi.ts', 'src/ops/readiness.ts'],
      rules: { 'import-x/no-restricted-paths': restrictedPaths([platformZone, ...foreignRepoZones]) },
    },
    // Each owner repo may write its own tables.
    ...owners.map((owner) => ({
      files: [owner],
      rules: { 'no-restricted-syntax': ['error', ...writeSelectors(TABLE_OWNERS.filter((entry) => entry.owner !== owner))] },
    })),
    { files: EXEMPT, rules: { 'no-restricted-syntax': 'off', 'import-x/no-restricted-paths': 'off' } },
  ];
}
