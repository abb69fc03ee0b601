/**
 * The Dockerfile and .dockerignore as data: stages with their instructions, and the context's
 * ignore rules. `npm run lint:deploy` checks them; the production test replays them in a folder.
 */
import { DockerfileParser, type Instruction } from 'dockerfile-ast';

export interface DockerInstruction {
  keyword: string;
  /** 1-based line, for messages. */
  line: number;
  /** The arguments after the flags, split into words as the parser splits them (unexpanded). */
  args: string[];
  /** The arguments as one string, continuation lines joined (a RUN's shell command). */
  content: string;
  flags: Record<string, string | null>;
  /** Exec form (`["node", "x"]`) of CMD, ENTRYPOINT or HEALTHCHECK CMD; undefined in shell form. */
  exec: string[] | undefined;
}

export interface DockerStage {
  name: string | undefined;
  image: string;
  line: number;
  instructions: DockerInstruction[];
}

function execForm(text: string): string[] | undefined {
  const trimmed = text.trim();
  if (!trimmed.startsWith('[')) return undefined;
  try {
    const parsed: unknown = JSON.parse(trimmed);
    return Array.isArray(parsed) && parsed.every((item) => typeof item === 'string') ? parsed : undefined;
  } catch {
    return undefined;
  }
}

function toInstruction(instruction: Instruction): DockerInstruction {
  const keyword = instruction.getKeyword().toUpperCase();
  const flagged = instruction as Instruction & { getFlags?: () => { getName(): string; getValue(): string | null }[] };
  const flags = Object.fromEntries((flagged.getFlags?.() ?? []).map((flag) => [flag.getName(), flag.getValue()]));
  // The parser leaves the flags out of the arguments and their text.
  const content = instruction.getArgumentsContent() ?? '';
  const commandText = keyword === 'HEALTHCHECK' ? content.replace(/^\s*CMD\s+/i, '') : content;
  return {
    keyword,
    line: instruction.getRange().start.line + 1,
    args: instruction.getArguments().map((argument) => argument.getValue()),
    content,
    flags,
    exec: ['CMD', 'ENTRYPOINT', 'HEALTHCHECK'].includes(keyword) ? execForm(commandText) : undefined,
  };
}

export function parseDockerfile(text: string): DockerStage[] {
  const stages: DockerStage[] = [];
  for (const instruction of DockerfileParser.parse(text).getInstructions()) {
    const parsed = toInstruction(instruction);
    if (parsed.keyword === 'FROM') {
      const [image = '', as, name] = parsed.args;
      stages.push({ name: as?.toUpperCase() === 'AS' ? name : undefined, image, line: parsed.line, instructions: [] });
    } else {
      stages.at(-1)?.instructions.push(parsed);
    }
  }
  return stages;
}

/** A .dockerignore pattern as a regular expression over context-relative paths with "/". */
function patternToRegExp(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i]!;
    if (char === '*' && pattern[i + 1] === '*') {
      i++;
      if (pattern[i + 1] === '/') {
        i++;
        source += '(?:.*/)?';
      } else {
        source += '.*';
      }
    } else if (char === '*') {
      source += '[^/]*';
    } else if (char === '?') {
      source += '[^/]';
    } else {
      source += char.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
  }
  // A pattern that matches a folder excludes everything inside it.
  return new RegExp(`^${source}(?:/.*)?$`);
}

/**
 * Docker's rules: patterns are relative to the context root, the last matching pattern decides,
 * and `!pattern` takes a path back in.
 */
export function dockerignoreMatcher(text: string): (path: string) => boolean {
  const rules = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const include = line.startsWith('!');
      const pattern = (include ? line.slice(1) : line).trim().replace(/^\/+/, '').replace(/\/+$/, '');
      return { include, pattern: patternToRegExp(pattern) };
    });
  return (path) => {
    const normalized = path.replace(/^\.\//, '').replace(/\/+$/, '');
    let ignored = false;
    for (const rule of rules) if (rule.pattern.test(normalized)) ignored = !rule.include;
    return ignored;
  };
}
