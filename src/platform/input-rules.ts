/**
 * The one input rule for everything a caller sends: text must be storable in PostgreSQL (no
 * U+0000, which text and jsonb cannot hold, and no unpaired UTF-16 surrogate, which jsonb and
 * UTF-8 cannot encode), and structures are at most MAX_INPUT_DEPTH levels deep. `app.ts` applies
 * it to every route's params, query and body (`registerInputRules`); routes that read raw bytes
 * (signed webhooks) apply `findInputProblem` or `storableText` to what they parse. A breach is a
 * 400 `invalid_input`, before any query runs.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AppError } from './errors.ts';

/** Deeper than any real payload (Retell's deepest is under 10); iterative walks stop here. */
export const MAX_INPUT_DEPTH = 64;

/** Why a string cannot be stored, or null when it can. */
export function textProblem(text: string): string | null {
  if (text.includes('\u0000')) return 'must not contain U+0000 (NUL)';
  if (!text.isWellFormed()) return 'must not contain an unpaired UTF-16 surrogate';
  return null;
}

export function isStorableText(text: string): boolean {
  return textProblem(text) === null;
}

/** A string schema that enforces the input rule (for fields parsed outside the route schema). */
export function storableText() {
  return z.string().refine(isStorableText, { message: 'must not contain U+0000 or an unpaired surrogate' });
}

/** A key shown in a message: hostile keys are not echoed back. */
function shownKey(key: string | number): string {
  if (typeof key === 'number') return String(key);
  return /^[\w$-]{1,64}$/.test(key) ? key : '<key>';
}

/**
 * The first breach of the input rule in `value` (strings, object keys, nesting), as
 * "where: what", or null. Iterative, so no input can exhaust the stack. `depthOnly` checks the
 * nesting alone (payloads stored as jsonb after `sanitizeForStorage`-style cleaning).
 */
export function findInputProblem(value: unknown, where: string, options: { depthOnly?: boolean; maxDepth?: number } = {}): string | null {
  const maxDepth = options.maxDepth ?? MAX_INPUT_DEPTH;
  const checkText = options.depthOnly !== true;
  // The path is rebuilt from parent links only when there is something to report.
  type Frame = { node: unknown; depth: number; parent: Frame | null; key: string | number };
  const pathOf = (frame: Frame): string => {
    const keys: string[] = [];
    for (let at: Frame | null = frame; at !== null && at.parent !== null; at = at.parent) keys.push(shownKey(at.key));
    const path = [where, ...keys.reverse()].join('.');
    return path.length > 120 ? `${path.slice(0, 117)}...` : path;
  };
  const stack: Frame[] = [{ node: value, depth: 0, parent: null, key: '' }];
  while (stack.length > 0) {
    const frame = stack.pop()!;
    const { node, depth } = frame;
    if (typeof node === 'string') {
      const problem = checkText ? textProblem(node) : null;
      if (problem) return `${pathOf(frame)}: ${problem}`;
      continue;
    }
    if (node === null || typeof node !== 'object' || Buffer.isBuffer(node)) continue;
    if (depth >= maxDepth) return `${pathOf(frame)}: nested deeper than ${maxDepth} levels`;
    if (Array.isArray(node)) {
      for (let index = 0; index < node.length; index++) {
        const child: unknown = node[index];
        if (typeof child === 'object' || (checkText && typeof child === 'string')) stack.push({ node: child, depth: depth + 1, parent: frame, key: index });
      }
      continue;
    }
    for (const key of Object.keys(node)) {
      if (checkText) {
        const problem = textProblem(key);
        if (problem) return `${pathOf({ node: null, depth, parent: frame, key })}: key ${problem}`;
      }
      const child: unknown = (node as Record<string, unknown>)[key];
      if (typeof child === 'object' || (checkText && typeof child === 'string')) stack.push({ node: child, depth: depth + 1, parent: frame, key });
    }
  }
  return null;
}

/** Throws the 400 for a breach of the input rule. */
export function assertValidInput(value: unknown, where: string): void {
  const problem = findInputProblem(value, where);
  if (problem) throw new AppError('invalid_input', problem);
}

/**
 * Applies the rule to every route of `app`: params and query as soon as the route is matched
 * (before authentication hooks touch them), the parsed body before validation. Raw bodies
 * (Buffers, for signed webhooks) are left to their routes, which check what they parse.
 */
export function registerInputRules(app: FastifyInstance): void {
  app.addHook('onRequest', async (request) => {
    assertValidInput(request.params, 'params');
    assertValidInput(request.query, 'query');
  });
  app.addHook('preValidation', async (request) => {
    assertValidInput(request.body, 'body');
  });
}
