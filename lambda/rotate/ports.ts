/**
 * What the rotation needs from the world, as narrow interfaces: Secrets Manager, the key records,
 * the declared spec, the consumers and a verifier. The steps and the sweep are written against
 * these; adapters.ts binds them to AWS and the key store. Tests can bind them to the emulator with
 * faults injected at the AWS SDK, so the logic is the same in every run.
 */
import type { ApiKeyRecord } from '../keys/key-record';

/** The secret's JSON, as the provisioner writes it (see handout/key-secret.ts). */
export interface SecretValue {
  readonly apiKey: string;
  readonly keyId: string;
  readonly tenant: string;
  readonly name: string;
  readonly environment: string;
}

export interface SecretDescription {
  readonly arn: string;
  readonly name: string;
  /** The version holding AWSCURRENT. */
  readonly currentVersionId?: string;
  /** The version holding AWSPENDING, if any. */
  readonly pendingVersionId?: string;
  readonly rotationEnabled: boolean;
  readonly nextRotationDate?: string;
  readonly lastRotatedDate?: string;
}

export interface SecretPort {
  describe(secretId: string): Promise<SecretDescription>;
  /** The value of a version (by id) or of a stage; undefined when it has none or is not a keyroll key. */
  read(secretArn: string, version: { readonly versionId?: string; readonly stage?: 'AWSCURRENT' | 'AWSPENDING' }): Promise<SecretValue | undefined>;
  /** Stores `value` as version `token` labelled AWSPENDING; a no-op when that version exists with that value. */
  putPending(secretArn: string, token: string, value: SecretValue): Promise<void>;
  /** Moves AWSCURRENT to `token` and removes AWSPENDING from it; each part a no-op when done. */
  moveCurrentTo(secretArn: string, token: string): Promise<void>;
  /** Removes AWSPENDING from `token` (a repaired rotation); a no-op when it is not there. */
  removePending(secretArn: string, token: string): Promise<void>;
}

export interface KeyPort {
  get(tenant: string, keyId: string): Promise<ApiKeyRecord | undefined>;
  /** Registers `credential` as an additional valid credential of the key, for rotation `token`. */
  addPending(tenant: string, keyId: string, credential: string, token: string): Promise<ApiKeyRecord>;
  /** Makes the pending credential of `token` current; the old current stays valid until `graceUntil`. */
  promotePending(tenant: string, keyId: string, token: string, graceUntil: Date): Promise<ApiKeyRecord>;
  dropPending(tenant: string, keyId: string, token: string): Promise<void>;
  retireGrace(tenant: string, keyId: string, credentialHash: string): Promise<void>;
  /** Per credential hash, its last use (ISO-8601) as the key service recorded it. */
  credentialLastUsed(hashes: readonly string[]): Promise<Map<string, string>>;
}

/** A consumer keyroll writes the credential into (every declared consumer but the reference rules). */
export interface WrittenConsumer {
  /** Stable id for status and logs, e.g. `iot-rule-inline:acme_legacy`. */
  readonly id: string;
  write(credential: string): Promise<void>;
  /** hashCredential of what the consumer holds now, or undefined; never the plaintext. */
  readBackHash(): Promise<string | undefined>;
}

export interface DeclaredKey {
  readonly tenant: string;
  readonly name: string;
  readonly permissions: readonly string[];
  readonly graceMinutes: number;
  /** Reference rules read the secret through get_secret: nothing to write, they follow AWSCURRENT. */
  readonly referenceRules: readonly string[];
  readonly consumers: readonly WrittenConsumer[];
}

export interface SpecPort {
  /** The declared key behind `keyroll/<tenant>/<name>`, with its consumers bound; undefined when not declared. */
  read(tenant: string, name: string): Promise<DeclaredKey | undefined>;
}

export type CredentialCheck = { readonly ok: true } | { readonly ok: false; readonly code: string };

export interface VerifierPort {
  /** Asks the key service whether `credential` is valid for `permission`. */
  check(credential: string, permission: string): Promise<CredentialCheck>;
}
