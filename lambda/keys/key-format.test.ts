import fc from 'fast-check';
import { ENVIRONMENTS } from './environments';
import { generateKey, KEY_PATTERN, parseKey, redactKeys } from './key-format';

describe('key format', () => {
  it.each([
    ['production', 'kr_live_'],
    ['staging', 'kr_test_'],
    ['development', 'kr_dev_'],
  ] as const)('issues %s keys as %s<38 base62 characters>', (environment, prefix) => {
    const key = generateKey(environment);
    expect(key.startsWith(prefix)).toBe(true);
    expect(key.slice(prefix.length)).toMatch(/^[0-9A-Za-z]{38}$/);
    expect(KEY_PATTERN.test(key)).toBe(true);
    expect(parseKey(key)).toEqual({ environment, start: key.slice(0, prefix.length + 4) });
  });

  it('never issues the same key twice', () => {
    const keys = new Set(Array.from({ length: 2000 }, () => generateKey('production')));
    expect(keys.size).toBe(2000);
  });

  it('draws every base62 character, roughly uniformly', () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 2000; i++) {
      for (const ch of generateKey('production').slice(8, 40)) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    }
    expect(counts.size).toBe(62);
    const expected = (2000 * 32) / 62;
    for (const count of counts.values()) expect(Math.abs(count - expected) / expected).toBeLessThan(0.2);
  });

  it('refuses any key with one character changed (checksum)', () => {
    const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
    fc.assert(
      fc.property(fc.constantFrom(...ENVIRONMENTS), fc.nat(), fc.nat(61), (environment, position, replacement) => {
        const key = generateKey(environment);
        const bodyStart = key.lastIndexOf('_') + 1;
        const index = bodyStart + (position % (key.length - bodyStart));
        const swapped = alphabet[replacement] === key[index] ? alphabet[(replacement + 1) % 62] : alphabet[replacement];
        const tampered = key.slice(0, index) + swapped + key.slice(index + 1);
        expect(parseKey(tampered)).toBeUndefined();
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses malformed input of any shape', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (text) => {
        expect(parseKey(text)).toBeUndefined();
      }),
    );
    for (const bad of ['', 'kr_live_', 'kr_prod_' + 'a'.repeat(38), generateKey('production') + 'x', ` ${generateKey('staging')}`]) {
      expect(parseKey(bad)).toBeUndefined();
    }
  });

  it('masks keys in text that echoes client input', () => {
    const key = generateKey('production');
    const masked = redactKeys(`/v1/${key}/x`);
    expect(masked).not.toContain(key);
    expect(masked).toBe(`/v1/${key.slice(0, 12)}…/x`);
  });
});
