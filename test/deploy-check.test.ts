/**
 * The deployment linter (`npm run lint:deploy`): the repository's files pass, and each rule
 * catches the mistake it is there for (checked on altered copies of the real files).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { checkCompose, checkDockerfile, checkKubernetes, checkRailway, checkRepository, validateKubernetesObject } from '../deploy/check.ts';
import { dockerignoreMatcher } from '../deploy/dockerfile.ts';
import { ROOT } from './helpers/paths.ts';

const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
// yamllint comes from Debian (.ci/run installs it); without it only the repository-wide check is skipped.
const hasYamllint = spawnSync('yamllint', ['--version']).error === undefined;

describe('deployment files', () => {
  it.runIf(hasYamllint)('the repository passes every check (yamllint included)', () => {
    expect(checkRepository()).toEqual([]);
  });

  describe('Dockerfile', () => {
    const inputs = (dockerfile: string, dockerignore = read('.dockerignore')) => ({
      dockerfile,
      dockerignore,
      nodeVersion: read('.nvmrc').trim(),
      exists: (path: string) => ['package.json', 'package-lock.json', '.npmrc', 'bin', 'src', 'migrations', 'config'].includes(path),
    });
    const dockerfile = read('Dockerfile');

    it('passes as it is', () => {
      expect(checkDockerfile(inputs(dockerfile))).toEqual([]);
    });

    it.each([
      ['a root final stage', dockerfile.replace('USER node\n', ''), 'non-root USER'],
      ['no HEALTHCHECK', dockerfile.replace(/HEALTHCHECK[^\n]*\\\n[^\n]*\n/, ''), 'no HEALTHCHECK'],
      ['another start command', dockerfile.replace('CMD ["node", "src/main.ts"]', 'CMD ["npm", "start"]'), 'tested API command'],
      ['dev dependencies in the image', dockerfile.replace('npm ci --omit=dev', 'npm ci'), 'npm ci --omit=dev'],
      ['an unpinned base image', dockerfile.replace('node:24.22.3-bookworm-slim', 'node:latest'), 'not pinned'],
      ['another Node than .nvmrc', dockerfile.replace('node:24.22.3-bookworm-slim', 'node:22.18.0-bookworm-slim'), '.nvmrc'],
      ['npm install', dockerfile.replace('RUN npm ci --no-audit --no-fund', 'RUN npm install'), 'npm ci'],
      ['no build stage for the dashboard', dockerfile.replace('npm run build --if-present && ', ''), 'npm run build --if-present'],
      ['a misspelt instruction', dockerfile.replace('EXPOSE 3000', 'EXPOSE http'), 'containerPort'],
      ['a copy of a missing folder', dockerfile.replace('COPY config ./config', 'COPY configs ./config'), 'not in the repository'],
    ])('catches %s', (_what, altered, message) => {
      expect(checkDockerfile(inputs(altered)).join('\n')).toContain(message);
    });

    it('catches a COPY of something .dockerignore leaves out of the context', () => {
      expect(checkDockerfile(inputs(dockerfile, `${read('.dockerignore')}\nmigrations\n`)).join('\n')).toContain('COPY migrations: excluded');
    });

    it('.dockerignore follows Docker: folders cover their contents, ** any depth, ! takes back in', () => {
      const ignored = dockerignoreMatcher('node_modules\n**/*.test.ts\nsecret*\n!secret.example\n');
      expect(ignored('node_modules/pg/index.js')).toBe(true);
      expect(ignored('src/a/b.test.ts')).toBe(true);
      expect(ignored('src/a/b.ts')).toBe(false);
      expect(ignored('secret.env')).toBe(true);
      expect(ignored('secret.example')).toBe(false);
    });
  });

  describe('compose.yaml', () => {
    const compose = () => parse(read('compose.yaml'), { merge: true }) as { services: Record<string, Record<string, unknown>> };

    it('passes as it is', () => {
      expect(checkCompose(compose())).toEqual([]);
    });

    it('catches what the Compose schema forbids', () => {
      const altered = compose();
      altered.services.api!.restart_policy = 'always';
      expect(checkCompose(altered).join('\n')).toContain('must NOT have additional properties (restart_policy)');
    });

    it.each([
      ['an API that does not wait for the migrations', (c: ReturnType<typeof compose>) => delete (c.services.api!.depends_on as Record<string, unknown>).migrate, 'wait for migrate'],
      ['a worker command that is not the tested one', (c: ReturnType<typeof compose>) => (c.services.worker!.command = ['npm', 'run', 'worker']), 'services.worker.command'],
      ['a literal secret', (c: ReturnType<typeof compose>) => ((c.services.api!.environment as Record<string, string>).JWT_SECRET = 'x'.repeat(40)), 'JWT_SECRET must come from the environment'],
      ['PostgreSQL data on no volume', (c: ReturnType<typeof compose>) => delete c.services.postgres!.volumes, 'named volume'],
      ['a worker checked on /health', (c: ReturnType<typeof compose>) => delete c.services.worker!.healthcheck, 'disable the image health check'],
    ])('catches %s', (_what, alter, message) => {
      const altered = compose();
      alter(altered);
      expect(checkCompose(altered).join('\n')).toContain(message);
    });
  });

  describe('railway', () => {
    const api = () => JSON.parse(read('railway.json')) as { deploy: Record<string, unknown> };

    it('passes as it is', () => {
      expect(checkRailway(api(), 'api')).toEqual([]);
      expect(checkRailway(JSON.parse(read('railway.worker.json')), 'worker')).toEqual([]);
    });

    it.each([
      ['an unknown field', (r: ReturnType<typeof api>) => (r.deploy.healthCheckPath = '/ready'), 'healthCheckPath'],
      ['no release step', (r: ReturnType<typeof api>) => delete r.deploy.preDeployCommand, 'preDeployCommand'],
      ['another start command', (r: ReturnType<typeof api>) => (r.deploy.startCommand = 'npm start'), 'startCommand'],
      ['a health check on /health', (r: ReturnType<typeof api>) => (r.deploy.healthcheckPath = '/health'), '/ready'],
    ])('catches %s', (_what, alter, message) => {
      const altered = api();
      alter(altered);
      expect(checkRailway(altered, 'api').join('\n')).toContain(message);
    });
  });

  describe('Kubernetes', () => {
    const manifest = (file: string) => parse(read(`deploy/kubernetes/${file}`)) as Record<string, unknown>;
    const files = ['config/configmap.yaml', 'api-deployment.yaml', 'api-service.yaml', 'api-hpa.yaml', 'api-pdb.yaml', 'worker-deployment.yaml', 'worker-hpa.yaml', 'worker-pdb.yaml', 'migrate/migrate-job.yaml'];
    const kustomizations = [
      { file: 'kustomization.yaml', resources: files.filter((f) => !f.includes('/')), images: [{ name: 'xlnc-perception', newName: 'r/x', newTag: '1' }] },
      { file: 'config/kustomization.yaml', resources: ['config/configmap.yaml'], images: [] },
      { file: 'migrate/kustomization.yaml', resources: ['migrate/migrate-job.yaml'], images: [{ name: 'xlnc-perception', newName: 'r/x', newTag: '1' }] },
    ];
    const objects = (alter: (byFile: Record<string, Record<string, unknown>>) => void = () => undefined) => {
      const byFile = Object.fromEntries(files.map((f) => [f, manifest(f)]));
      alter(byFile);
      return files.map((file) => {
        const { object, problems } = validateKubernetesObject(file, byFile[file]);
        expect(problems).toEqual([]);
        return object!;
      });
    };
    const apiContainer = (byFile: Record<string, Record<string, unknown>>) =>
      (byFile['api-deployment.yaml'] as { spec: { template: { spec: { containers: Record<string, unknown>[] } } } }).spec.template.spec.containers[0]!;

    it('passes as it is', () => {
      expect(checkKubernetes(objects(), kustomizations)).toEqual([]);
    });

    it('validates each object against its Kubernetes schema', () => {
      const deployment = manifest('api-deployment.yaml') as { spec: Record<string, unknown> };
      deployment.spec.replicas = 'two';
      expect(validateKubernetesObject('api-deployment.yaml', deployment).problems.join('\n')).toContain('replicas must be integer');
      expect(validateKubernetesObject('x.yaml', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' } }).problems.join('\n')).toContain('not a kind');
    });

    it.each([
      ['a readiness probe on /health', (f: Record<string, Record<string, unknown>>) => (apiContainer(f).readinessProbe = { httpGet: { path: '/health', port: 'http' } }), 'must ask /ready'],
      ['a probe on an undeclared port', (f: Record<string, Record<string, unknown>>) => (apiContainer(f).livenessProbe = { httpGet: { path: '/health', port: 8080 } }), 'does not declare'],
      ['another command', (f: Record<string, Record<string, unknown>>) => (apiContainer(f).command = ['npm', 'start']), 'command must be'],
      ['a Service selecting nothing', (f: Record<string, Record<string, unknown>>) => ((f['api-service.yaml'] as { spec: { selector: Record<string, string> } }).spec.selector = { app: 'other' }), 'does not select the API pods'],
      ['an autoscaler aimed elsewhere', (f: Record<string, Record<string, unknown>>) => ((f['worker-hpa.yaml'] as { spec: { scaleTargetRef: { name: string } } }).spec.scaleTargetRef.name = 'xlnc-workers'), 'no HorizontalPodAutoscaler for xlnc-worker'],
      ['a pod that may run as root', (f: Record<string, Record<string, unknown>>) => delete (f['migrate/migrate-job.yaml'] as { spec: { template: { spec: Record<string, unknown> } } }).spec.template.spec.securityContext, 'non-root user'],
    ])('catches %s', (_what, alter, message) => {
      expect(checkKubernetes(objects(alter), kustomizations).join('\n')).toContain(message);
    });

    it('catches a manifest no kustomization applies, and kustomizations naming different images', () => {
      const [root, config, migrate] = kustomizations;
      const problems = checkKubernetes(objects(), [
        { ...root!, resources: root!.resources.filter((f) => f !== 'worker-pdb.yaml') },
        config!,
        { ...migrate!, images: [{ name: 'xlnc-perception', newName: 'r/x', newTag: '2' }] },
      ]).join('\n');
      expect(problems).toContain('worker-pdb.yaml is in no kustomization');
      expect(problems).toContain('same xlnc-perception image');
    });
  });
});
