/**
 * Builds the Docker image's file tree without Docker: replays the Dockerfile's stages in folders
 * (WORKDIR /app is each stage's folder; COPY copies from the repository as the build context,
 * .dockerignore applied, or from another stage's folder; RUN runs the same shell command there).
 * What it cannot reproduce (the base image itself, a RUN outside /app) it refuses, so a change to
 * the Dockerfile that this replay does not understand fails the test instead of passing unseen.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { dockerignoreMatcher, parseDockerfile, type DockerStage } from '../../deploy/dockerfile.ts';

const WORKDIR = '/app';

export interface ReplayedImage {
  /** The final stage's /app. */
  dir: string;
  /** ENV of the final stage. */
  env: Record<string, string>;
  cmd: string[];
  healthcheck: string[];
  user: string;
}

export interface ReplayOptions {
  /** The build context (the repository). */
  context: string;
  /** An empty folder for the stages. */
  into: string;
  /** Owner for `COPY --chown` (the non-root user the image runs as). */
  runAs: { uid: number; gid: number };
  /** Environment for RUN commands (PATH with the Node under test, npm settings). */
  runEnv: Record<string, string>;
}

function copyPath(source: string, destination: string, include: (path: string) => boolean): void {
  if (!include(source)) return;
  if (statSync(source).isDirectory()) {
    mkdirSync(destination, { recursive: true });
    for (const entry of readdirSync(source)) copyPath(join(source, entry), join(destination, entry), include);
  } else {
    mkdirSync(dirname(destination), { recursive: true });
    cpSync(source, destination);
  }
}

function chownTree(path: string, owner: { uid: number; gid: number }): void {
  chownSync(path, owner.uid, owner.gid);
  if (statSync(path).isDirectory()) for (const entry of readdirSync(path)) chownTree(join(path, entry), owner);
}

export function replayImage(options: ReplayOptions): ReplayedImage {
  const stages = parseDockerfile(readFileSync(join(options.context, 'Dockerfile'), 'utf8'));
  const ignored = dockerignoreMatcher(readFileSync(join(options.context, '.dockerignore'), 'utf8'));
  const inContext = (path: string) => !ignored(relative(options.context, path) || '.');
  const folders = new Map<string, string>();
  chmodSync(options.into, 0o755);
  let final: ReplayedImage | undefined;

  const stageByName = (name: string) => stages.find((s) => s.name === name);
  /** A stage's instructions, those of the stage it starts FROM first. */
  const lineage = (stage: DockerStage): DockerStage['instructions'] => {
    const parent = stageByName(stage.image);
    return [...(parent ? lineage(parent) : []), ...stage.instructions];
  };
  /** Maps an absolute path of a stage's filesystem to its folder (only under /app). */
  const inStage = (stageName: string, path: string) => {
    const folder = folders.get(stageName);
    if (!folder) throw new Error(`COPY --from=${stageName} before that stage was replayed`);
    if (path !== WORKDIR && !path.startsWith(`${WORKDIR}/`)) throw new Error(`COPY --from=${stageName} ${path}: only ${WORKDIR} is replayed`);
    return join(folder, relative(WORKDIR, path));
  };

  stages.forEach((stage, index) => {
    const name = stage.name ?? `stage-${index}`;
    const dir = join(options.into, name);
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    folders.set(name, dir);
    const env: Record<string, string> = {};
    let cmd: string[] = [];
    let healthcheck: string[] = [];
    let user = 'root';
    for (const instruction of lineage(stage)) {
      const where = `Dockerfile line ${instruction.line}: ${instruction.keyword}`;
      switch (instruction.keyword) {
        case 'WORKDIR':
          if (instruction.args[0] !== WORKDIR) throw new Error(`${where} ${instruction.args[0]}: the replay maps ${WORKDIR} only`);
          break;
        case 'ENV':
          for (const pair of instruction.args) {
            const at = pair.indexOf('=');
            if (at < 1) throw new Error(`${where}: write ENV as KEY=value`);
            env[pair.slice(0, at)] = pair.slice(at + 1);
          }
          break;
        case 'COPY': {
          const sources = instruction.args.slice(0, -1);
          const target = instruction.args.at(-1) ?? '.';
          const destination = join(dir, target);
          const from = instruction.flags.from;
          const intoFolder = target.endsWith('/') || sources.length > 1;
          for (const source of sources) {
            const path = from ? inStage(from, source) : join(options.context, source);
            if (!existsSync(path)) throw new Error(`${where} ${source}: not there`);
            // A folder's contents are copied, not the folder; a file lands in a target ending in "/".
            const to = statSync(path).isDirectory() || !intoFolder ? destination : join(destination, basename(path));
            copyPath(path, to, from ? () => true : inContext);
            const chown = instruction.flags.chown;
            if (chown) chownTree(to, options.runAs);
          }
          break;
        }
        case 'RUN':
          if (instruction.exec) throw new Error(`${where}: the replay runs shell-form RUN only`);
          execFileSync('sh', ['-c', instruction.content], { cwd: dir, env: { ...options.runEnv, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
          break;
        case 'USER':
          user = instruction.args[0] ?? 'root';
          break;
        case 'CMD':
          if (!instruction.exec) throw new Error(`${where}: exec form expected`);
          cmd = instruction.exec;
          break;
        case 'HEALTHCHECK':
          if (!instruction.exec) throw new Error(`${where}: exec form expected`);
          healthcheck = instruction.exec;
          break;
        case 'EXPOSE':
          break;
        default:
          throw new Error(`${where}: the image replay does not know this instruction; teach test/helpers/image-replay.ts`);
      }
    }
    if (index === stages.length - 1) final = { dir, env, cmd, healthcheck, user };
  });
  if (!final) throw new Error('the Dockerfile has no stage');
  return final;
}
