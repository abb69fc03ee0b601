/**
 * The README's five-minute tour cannot drift: every command it shows is run, in a fresh copy of
 * the repository, and prints what the README says it prints (test/helpers/readme-tour.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/paths.ts';
import { normalizeTourLine, parseTour, runTour, tourLineMatches } from '../helpers/readme-tour.ts';

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');

describe('the README tour', () => {
  it('starts the server, simulates a call, shows it through the API, adds a second client and calls it', () => {
    const commands = parseTour(readme).map((step) => step.command);
    const index = (pattern: RegExp) => commands.findIndex((command) => pattern.test(command));
    const order = [/^npm ci$/, /^npm start$/, /xlnc simulate-call --client smart-tax-nation/, /xlnc users create/, /\/calls /, /^cat > config\/clients\/(\S+)\.json/, /xlnc simulate-call --client bright-smile-dental/].map(index);
    expect(order.every((at) => at >= 0)).toBe(true);
    expect([...order].sort((x, y) => x - y)).toEqual(order);
  });

  it('every command runs and prints what the README shows', async () => {
    const { steps } = await runTour(readme);
    for (const step of steps) {
      const shown = step.expected.map((line) => normalizeTourLine(line, 3000));
      expect(step.actual.length, `$ ${step.command}\n${step.actual.join('\n')}`).toBe(shown.length);
      shown.forEach((line, i) => {
        expect(tourLineMatches(line, step.actual[i] ?? ''), `$ ${step.command}\nshown:  ${line}\nactual: ${step.actual[i]}`).toBe(true);
      });
    }
  }, 240_000);
});
