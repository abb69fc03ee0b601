import { describe, expect, it } from 'vitest';
import { sanitizeForStorage } from '../webhooks/retell/retell-events.schemas.ts';
import { findInputProblem, MAX_INPUT_DEPTH } from './input-rules.ts';

function nested(depth: number): unknown {
  let value: unknown = 'leaf';
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
}

describe('the input rule (issue 11, finding 5)', () => {
  it('names NUL and unpaired surrogates in values and keys, without echoing hostile keys', () => {
    expect(findInputProblem({ email: 'a\u0000@b.c' }, 'body')).toBe('body.email: must not contain U+0000 (NUL)');
    expect(findInputProblem(['ok', '\uD800x'], 'query')).toBe('query.1: must not contain an unpaired UTF-16 surrogate');
    expect(findInputProblem({ 'k\u0000': 1 }, 'body')).toBe('body.<key>: key must not contain U+0000 (NUL)');
    expect(findInputProblem({ email: 'ok@example.com', list: ['\uD83D\uDE00'] }, 'body')).toBeNull();
  });

  it('refuses nesting deeper than the limit, iteratively (100,000 levels do not overflow the stack)', () => {
    expect(findInputProblem(nested(MAX_INPUT_DEPTH), 'body')).toBeNull();
    expect(findInputProblem(nested(MAX_INPUT_DEPTH + 1), 'body')).toMatch(/nested deeper than 64 levels/);
    expect(findInputProblem(nested(100_000), 'body')).toMatch(/nested deeper than 64 levels/);
    expect(findInputProblem(nested(100_000), 'body', { depthOnly: true })).toMatch(/nested deeper/);
    expect(findInputProblem({ t: '\u0000' }, 'body', { depthOnly: true })).toBeNull();
  });

  it('sanitizeForStorage copies any depth without recursion and keeps __proto__ as a plain key', () => {
    const deep = sanitizeForStorage(nested(100_000));
    let node: unknown = deep;
    let levels = 0;
    while (node && typeof node === 'object') {
      node = (node as { a: unknown }).a;
      levels++;
    }
    expect(levels).toBe(100_000);
    expect(node).toBe('leaf');

    const cleaned = sanitizeForStorage(JSON.parse('{"__proto__":{"x":"a\\u0000"},"list":["\\ud800",1,null]}') as Record<string, unknown>);
    expect(Object.getPrototypeOf(cleaned)).toBe(Object.prototype);
    expect(Object.keys(cleaned)).toEqual(['__proto__', 'list']);
    expect(JSON.stringify(cleaned)).toBe('{"__proto__":{"x":"a\uFFFD"},"list":["\uFFFD",1,null]}');
    expect(Array.isArray(cleaned.list)).toBe(true);
  });
});
