/**
 * The dashboard's web/src/app.css is one flat stylesheet: rules at the top level or inside an at-rule (@media, @keyframes),
 * never inside another rule. A rule left unclosed is still valid CSS (nesting), so neither the
 * browser nor the build complains; it only stops matching: every later rule becomes a descendant
 * selector of it (an unclosed `.summary code {` once switched off the Live and Alerts styles).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/paths.ts';

/** Where a rule block opens inside another rule block: "line N: selector inside selector". */
function nestedRules(css: string): string[] {
  const source = css.replace(/\/\*[\s\S]*?\*\//g, (comment) => comment.replace(/[^\n]/g, ' ')).replace(/"[^"\n]*"|'[^'\n]*'/g, (s) => s.replace(/[{}]/g, ' '));
  const open: { prelude: string; atRule: boolean }[] = [];
  const found: string[] = [];
  let start = 0;
  for (let i = 0; i < source.length; i += 1) {
    const ch = source[i];
    if (ch === '{') {
      const prelude = source.slice(start, i).split(';').at(-1)?.trim() ?? '';
      const parent = open.at(-1);
      if (parent !== undefined && !parent.atRule && !prelude.startsWith('@')) {
        found.push(`line ${source.slice(0, i).split('\n').length}: ${prelude} inside ${parent.prelude}`);
      }
      open.push({ prelude, atRule: prelude.startsWith('@') });
      start = i + 1;
    } else if (ch === '}') {
      open.pop();
      start = i + 1;
    }
  }
  if (open.length > 0) found.push(`unclosed: ${open.map((b) => b.prelude).join(' > ')}`);
  return found;
}

describe('app.css', () => {
  it('has no rule inside another rule and no unclosed block', () => {
    const css = readFileSync(join(ROOT, 'web/src/app.css'), 'utf8');
    expect(css.length).toBeGreaterThan(1000);
    expect(nestedRules(css)).toEqual([]);
  });

  it('finds the unclosed rule that swallows the rules after it', () => {
    expect(nestedRules('.a { color: red; }\n.summary code {\n  font-size: 1rem;\n\n.slot-grid { display: grid; }\n')).toEqual(['line 5: .slot-grid inside .summary code', 'unclosed: .summary code']);
    expect(nestedRules('@media (max-width: 1px) {\n  .a { color: red; }\n}\n@keyframes spin { to { rotate: 1turn; } }\n')).toEqual([]);
  });
});
