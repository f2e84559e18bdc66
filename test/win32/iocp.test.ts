// On a Windows machine (the GitHub Actions windows runners), the IOCP suite
// runs natively under vitest. Elsewhere it is skipped: Linux runs the same
// suite with a Windows node.exe under Wine (`npm run test:windows`).
import { describe, it } from 'vitest';

const onWindows = process.platform === 'win32';
// The suite imports compiled dist/ (so node.exe under Wine can run it too).
const suite = onWindows ? ((await import('./iocp-suite.mjs')) as { cases: Array<{ name: string; fn: () => Promise<void> }> }) : { cases: [] };

describe.skipIf(!onWindows)('IOCP backend on Windows (skipped elsewhere: not Windows; Linux runs it under Wine via npm run test:windows)', () => {
  for (const c of suite.cases) it(c.name, c.fn, 120_000);
  if (!onWindows) it('needs Windows', () => undefined);
});
