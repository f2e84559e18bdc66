// The writer's set of objects it renamed into fan-out directories it made (KnownAbsent) keeps
// 64-bit hash prefixes in a typed-array table. Checked against a plain Set of the same prefixes:
// every added hash must be found (a miss would let the writer skip the existence check of content
// already stored), and a hash whose prefix was never added must not be (the saving would be lost).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KnownAbsent, PrefixSet } from '../../host/node/store/fanout.js';

const hex64 = fc.stringMatching(/^[0-9a-f]{64}$/);
/** Hashes that often share a first 64 bits with another, or are all zeros up front. */
const hash = fc.oneof(
  hex64,
  hex64.map((h) => '0000000000000000' + h.slice(16)),
  fc.tuple(fc.constantFrom('00000000deadbeef', 'ffffffff00000000', '0123456789abcdef'), hex64).map(([p, h]) => p + h.slice(16)),
);

describe('PrefixSet', () => {
  it('agrees with a Set of 16-hex-digit prefixes on every added and probed hash (200 cases, up to 3,000 adds: the table grows)', () => {
    fc.assert(
      fc.property(fc.array(hash, { maxLength: 3000 }), fc.array(hash, { maxLength: 200 }), (added, probes) => {
        const s = new PrefixSet();
        const model = new Set<string>();
        for (const h of added) {
          s.add(h);
          model.add(h.slice(0, 16));
        }
        expect(s.size).toBe(model.size);
        for (const h of added) expect(s.has(h)).toBe(true);
        for (const h of probes) expect(s.has(h)).toBe(model.has(h.slice(0, 16)));
      }),
      { numRuns: 200 },
    );
  });

  it('clear() forgets everything', () => {
    const s = new PrefixSet();
    const h = 'ab'.repeat(32);
    s.add(h);
    s.add('0'.repeat(64));
    s.clear();
    expect(s.size).toBe(0);
    expect(s.has(h)).toBe(false);
    expect(s.has('0'.repeat(64))).toBe(false);
  });
});

describe('KnownAbsent', () => {
  it('is absent only in a directory it created, until that object is written', () => {
    const k = new KnownAbsent();
    const a = 'ab' + '1'.repeat(62);
    const b = 'cd' + '2'.repeat(62);
    expect(k.absent(a)).toBe(false); // no directory made by this writer: ask the filesystem
    k.created('ab');
    expect(k.absent(a)).toBe(true);
    expect(k.absent(b)).toBe(false);
    k.written(a);
    expect(k.absent(a)).toBe(false);
    expect(k.absent('ab' + '3'.repeat(62))).toBe(true);
  });
});
