/** One-way hash of a credential (the plaintext API key): the only form in which a key is stored or looked up. */
import { hash } from 'node:crypto';

/**
 * SHA-256, base64url. A fast unsalted hash is right here: keys carry 190 bits of entropy, so
 * there is nothing to brute-force, and the hash must be computed on every request.
 */
export function hashCredential(key: string): string {
  return hash('sha256', key, 'base64url');
}
