import { generateKey } from '../keys/key-format';
import { createRecord } from '../keys/key-transitions';
import { KeyCache } from './key-cache';

const now = Date.parse('2026-06-01T00:00:00Z');
const key = generateKey('production');
const record = createRecord('acme', { name: 'k', environment: 'production', permissions: ['telemetry:write'] }, key, new Date(now));

describe('KeyCache', () => {
  it('never serves a forgotten entry again, but still knows its hash belongs to a real key', () => {
    const cache = new KeyCache();
    cache.set(record.credentialHash, record, now);
    cache.forgetKey(record.id);
    const entry = cache.get(record.credentialHash)!;
    expect(entry.record).toBe(record);
    expect(cache.freshness(entry, now)).toBe('expired');
    cache.set(record.credentialHash, record, now + 1);
    cache.forgetHash(record.credentialHash);
    expect(cache.freshness(cache.get(record.credentialHash)!, now + 1)).toBe('expired');
  });

});
