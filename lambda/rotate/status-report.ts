/**
 * `keyroll rotation status`: per declared key of a tenant, where its rotation stands. Read from the
 * rotation records, Secrets Manager's schedule and the key service's per-credential last use.
 */
import type { KeyPort, SecretPort } from './ports';
import type { RotationRecordStore } from './rotation-record';
import { type RotationFailure, type RotationStatus, rotationStatus } from './rotation-plan';

export interface KeyRotationStatus {
  readonly tenant: string;
  readonly name: string;
  readonly keyId?: string;
  readonly phase: RotationStatus;
  readonly versionId?: string;
  /** ISO-8601, the last cutover. */
  readonly lastRotatedAt?: string;
  /** ISO-8601, when Secrets Manager rotates it next. */
  readonly nextDueAt?: string;
  readonly rotationEnabled: boolean;
  /** The old credential still in grace, with its last use. */
  readonly oldCredential?: { readonly start: string; readonly graceUntil: string; readonly lastUsedAt?: string };
  readonly lastRetirement?: { readonly start: string; readonly at: string; readonly reason: string; readonly lastUsedAt?: string };
  readonly failure?: RotationFailure;
}

export interface StatusDeps {
  readonly records: RotationRecordStore;
  readonly secrets: SecretPort;
  readonly keys: Pick<KeyPort, 'credentialLastUsed'>;
  /** The tenant's declared key names (its specs). */
  readonly declaredNames: (tenant: string) => Promise<string[]>;
}

export async function rotationStatusReport(deps: StatusDeps, tenant: string): Promise<KeyRotationStatus[]> {
  const names = await deps.declaredNames(tenant);
  const records = new Map((await deps.records.list([tenant])).map((record) => [record.name, record]));
  const report: KeyRotationStatus[] = [];
  for (const name of names.sort()) {
    const state = records.get(name)?.state;
    const secret = await deps.secrets.describe(`keyroll/${tenant}/${name}`).catch(() => undefined);
    const old = state?.retiring.at(-1);
    const lastUsedAt = old ? (await deps.keys.credentialLastUsed([old.hash])).get(old.hash) : undefined;
    report.push({
      tenant,
      name,
      ...(state?.keyId ? { keyId: state.keyId } : {}),
      phase: state ? rotationStatus(state) : 'idle',
      ...(state?.versionId ? { versionId: state.versionId } : {}),
      ...(state?.lastRotatedAt ?? secret?.lastRotatedDate ? { lastRotatedAt: state?.lastRotatedAt ?? secret?.lastRotatedDate } : {}),
      ...(secret?.nextRotationDate ? { nextDueAt: secret.nextRotationDate } : {}),
      rotationEnabled: secret?.rotationEnabled ?? false,
      ...(old ? { oldCredential: { start: old.start, graceUntil: old.graceUntil, ...(lastUsedAt ? { lastUsedAt } : {}) } } : {}),
      ...(state?.lastRetirement ? { lastRetirement: state.lastRetirement } : {}),
      ...(state?.failure ? { failure: state.failure } : {}),
    });
  }
  return report;
}
