// npm run test:prism: the HTTP tests with every request judged by Prism against the OpenAPI document
// (prism-judge.ts). Each violation is kept with the test it was found in, and the pass fails at its end
// naming them all (a root hook that failed sooner would skip every test after it).
import type { Context } from 'mocha';
import { tally, unjudged, violations } from './prism-judge.js';

process.env.TEST_PRISM = '1';

let seen = 0;
const found: string[] = [];

export const mochaHooks = {
  beforeEach(): void {
    seen = violations.length;
  },
  afterEach(this: Context): void {
    for (const violation of violations.slice(seen)) found.push(`${this.currentTest?.fullTitle()}:\n  ${violation}`);
    seen = violations.length;
  },
  afterAll(): void {
    console.log(`\nPrism judged ${tally.judged} requests and their answers; ${found.length} disagreed with the document.`);
    if (unjudged.length > 0) {
      const reasons = new Map<string, number>();
      for (const { reason } of unjudged) reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
      const byReason = [...reasons].map(([reason, count]) => `${reason}: ${count}`).join('; ');
      console.log(`Prism could not judge ${unjudged.length} more, sent to the server alone (${byReason})`);
    }
    if (found.length > 0) throw new Error(`the OpenAPI document and the server disagree:\n${found.join('\n')}`);
  },
};
