/**
 * The API key format: `kr_<env>_<body>`, where body is 32 base62 characters from a CSPRNG
 * (190.5 bits) followed by a 6-character base62 CRC32 of everything before it.
 *
 * The checksum lets the verifier refuse typos and garbage without touching the store, and lets
 * secret scanners match leaked keys with {@link KEY_PATTERN}.
 */
import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { ENVIRONMENT_TAGS, type Environment, environmentForTag } from './environments';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
export const RANDOM_LENGTH = 32;
export const CHECKSUM_LENGTH = 6;
const BODY_LENGTH = RANDOM_LENGTH + CHECKSUM_LENGTH;

/**
 * Matches a keyroll key anywhere in text. Give it to secret scanners (GitHub custom patterns,
 * gitleaks, trufflehog): `kr_(live|test|dev)_[0-9A-Za-z]{38}`.
 */
export const KEY_PATTERN = /\bkr_(?:live|test|dev)_[0-9A-Za-z]{38}\b/;
/** {@link KEY_PATTERN} with the global flag, for finding every leaked key in a text. */
export const KEY_PATTERN_GLOBAL = new RegExp(KEY_PATTERN.source, 'g');

/** Masks anything that looks like a key, for text that echoes client input (paths, messages). */
export function redactKeys(text: string): string {
  return text.replace(KEY_PATTERN_GLOBAL, (key) => `${displayStart(key)}…`);
}

const EXACT_KEY = /^kr_(live|test|dev)_([0-9A-Za-z]{38})$/;

export interface ParsedKey {
  readonly environment: Environment;
  /** The display prefix kept in the store, e.g. `kr_live_Ab3d`; never enough to use the key. */
  readonly start: string;
}

/**
 * Whether a string has a key's length (`kr_dev_` is 7 characters, `kr_live_`/`kr_test_` 8): the
 * cheapest refusal, before any regex, checksum or hash.
 */
export function hasKeyLength(candidate: string): boolean {
  return candidate.length === 7 + BODY_LENGTH || candidate.length === 8 + BODY_LENGTH;
}

/** Issues a new key for an environment. The only place a plaintext key is born. */
export function generateKey(environment: Environment): string {
  const head = `kr_${ENVIRONMENT_TAGS[environment]}_${randomBase62(RANDOM_LENGTH)}`;
  return head + checksumOf(head);
}

/**
 * Parses a presented key. Returns undefined for anything that is not a well-formed key with a
 * valid checksum, so the caller can refuse it without any I/O.
 */
export function parseKey(candidate: string): ParsedKey | undefined {
  if (!hasKeyLength(candidate)) return undefined;
  const match = EXACT_KEY.exec(candidate);
  if (!match) return undefined;
  const split = candidate.length - CHECKSUM_LENGTH;
  if (checksumOf(candidate.slice(0, split)) !== candidate.slice(split)) return undefined;
  const environment = environmentForTag(match[1])!;
  return { environment, start: displayStart(candidate) };
}

/** The short, non-secret beginning of a key shown in listings so humans can tell keys apart. */
export function displayStart(key: string): string {
  const bodyStart = key.indexOf('_', 3) + 1;
  return key.slice(0, bodyStart + 4);
}

function checksumOf(text: string): string {
  return toBase62(crc32(text), CHECKSUM_LENGTH);
}

function toBase62(value: number, width: number): string {
  let out = '';
  let rest = value;
  for (let i = 0; i < width; i++) {
    out = BASE62[rest % 62] + out;
    rest = Math.floor(rest / 62);
  }
  return out;
}

/** Uniform base62 via rejection sampling: bytes ≥ 248 are dropped so `% 62` has no bias. */
export function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248) out += BASE62[byte % 62];
      if (out.length === length) break;
    }
  }
  return out;
}
