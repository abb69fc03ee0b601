/**
 * `npm run lint` enforces the platform's boundaries (eslint.boundaries.js): this runs the
 * project's own ESLint configuration, limited to the boundary rules, over the tree as it is (no
 * problem) and over real files with one breach injected (each caught, by the right rule).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { CAPABILITIES } from '../eslint.boundaries.js';
import { ROOT } from './helpers/paths.ts';

const BOUNDARY_RULES = new Set(['import-x/no-cycle', 'import-x/no-restricted-paths', 'no-restricted-syntax']);

function boundaryLinter(): ESLint {
  return new ESLint({
    cwd: ROOT,
    // Boundaries need no type information: skip building the TypeScript program.
    overrideConfig: { languageOptions: { parserOptions: { projectService: false, project: null } } },
    ruleFilter: ({ ruleId }) => BOUNDARY_RULES.has(ruleId),
  });
}

async function lintWith(file: string, injected: string) {
  const source = readFileSync(join(ROOT, file), 'utf8');
  const [result] = await boundaryLinter().lintText(`${source}\n${injected}\n`, { filePath: join(ROOT, file) });
  return (result?.messages ?? []).map((m) => `${m.ruleId}: ${m.message}`);
}

describe('lint boundaries', { timeout: 120_000 }, () => {
  it('the tree as it is has no breach', async () => {
    const results = await boundaryLinter().lintFiles(['src/**/*.ts']);
    const problems = results.flatMap((r) => r.messages.map((m) => `${r.filePath}:${m.line} ${m.ruleId}: ${m.message}`));
    expect(problems).toEqual([]);
    expect(results.length).toBeGreaterThan(100);
  });

  it('every folder of src/ but platform/ is a capability the rules cover', () => {
    const folders = readdirSync(join(ROOT, 'src'), { withFileTypes: true }).filter((d) => d.isDirectory() && d.name !== 'platform').map((d) => d.name);
    expect(folders.filter((name) => !CAPABILITIES.includes(name))).toEqual([]);
  });

  it("a capability added late (alerts, onboarding, live) importing another's repo fails", async () => {
    for (const [file, name] of [
      ['src/alerts/detectors.ts', 'alerts'],
      ['src/onboarding/onboarding.checks.ts', 'onboarding'],
      ['src/live/live.service.ts', 'live'],
    ] as const) {
      const messages = await lintWith(file, "import { listSubscriptions } from '../outbound-webhooks/outbound-webhooks.repo.ts';\nexport const peek = listSubscriptions;");
      expect(messages).toContainEqual(expect.stringMatching(new RegExp(`^import-x/no-restricted-paths: .*src/${name} may use another capability's service, not its repo`)));
    }
  });

  it('an import cycle fails', async () => {
    // calls.repo → core/router → calls/post-call.job → calls.repo
    const messages = await lintWith('src/calls/calls.repo.ts', "import { JOB_CATALOGUE } from '../core/router.ts';\nexport const catalogue = JOB_CATALOGUE;");
    expect(messages.some((m) => m.startsWith('import-x/no-cycle'))).toBe(true);
  });

  it('a capability imported into src/platform fails', async () => {
    const messages = await lintWith('src/platform/errors.ts', "import { toE164 } from '../customers/phone.ts';\nexport const e164 = toE164;");
    expect(messages).toContainEqual(expect.stringMatching(/^import-x\/no-restricted-paths: .*src\/platform\/ is infrastructure/));
  });

  it("another capability's repo imported fails", async () => {
    const messages = await lintWith('src/functions/builtins.ts', "import { upsertCustomerByPhone } from '../customers/customers.repo.ts';\nexport const upsert = upsertCustomerByPhone;");
    expect(messages).toContainEqual(expect.stringMatching(/^import-x\/no-restricted-paths: .*src\/functions may use another capability's service, not its repo/));
  });

  it('the composition root imported by a job fails', async () => {
    const messages = await lintWith('src/calls/post-call.job.ts', "import type { Deps } from '../deps.ts';\nexport type D = Deps;");
    expect(messages).toContainEqual(expect.stringMatching(/^import-x\/no-restricted-paths: .*composition root/));
  });

  it("a table written outside its owner's repo fails, by drizzle or by raw SQL", async () => {
    const drizzle = await lintWith(
      'src/messages/message-send.job.ts',
      "import { customers } from '../platform/db/schema.ts';\nexport const optOut = (tx: Tx) => tx.update(customers).set({ optedOutAt: null });",
    );
    expect(drizzle).toContainEqual(expect.stringMatching(/^no-restricted-syntax: The customers table is written only by src\/customers\/customers\.repo\.ts/));
    const raw = await lintWith('src/functions/functions.service.ts', "export const write = 'insert into function_calls (client_id) values ($1)';");
    expect(raw).toContainEqual(expect.stringMatching(/^no-restricted-syntax: The function_calls table is written only by src\/functions\/functions\.repo\.ts/));
    // Reading is fine anywhere.
    expect(await lintWith('src/messages/message-send.job.ts', "import { customers } from '../platform/db/schema.ts';\nexport const read = (tx: Tx) => tx.select().from(customers);")).toEqual([]);
  });
});
