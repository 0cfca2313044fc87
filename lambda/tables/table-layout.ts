/**
 * The keys table's layout: every kind of item it holds, and the one place their key prefixes are
 * spelt. The service's IAM condition (`dynamodb:LeadingKeys`) is built from SERVICE_PARTITIONS, so
 * a new kind of item is either in the service's reach on purpose or out of it.
 */

export const PARTITIONS = {
  /** Key records (`KEY#<id>`), usage markers (`USAGE#<id>`), the tenant's declared permissions. */
  tenant: 'TENANT#',
  /** Secret pointers: which key a secret hash opens. */
  secret: 'SECRET#',
  /** Declared specs, owned by Terraform. */
  spec: 'SPEC#',
  /** The provisioner's records of what it handed out. */
  provisioned: 'PROVISIONED#',
  /** Rotation state and the lease that keeps rotation steps, sweeps and deploys of a key apart. */
  rotation: 'ROTATION#',
} as const;

/** Sort-key prefixes inside a tenant's partition. */
export const TENANT_ITEMS = { key: 'KEY#', usage: 'USAGE#', permissions: 'PERMISSIONS' } as const;

/**
 * The partitions the internet-facing key service may touch. Specs and provisioner records steer
 * the provisioner, so the service must never be able to write them.
 */
export const SERVICE_PARTITIONS: readonly string[] = [PARTITIONS.tenant, PARTITIONS.secret];

const SECRET_SK = 'SECRET';

export const tenantPartition = (tenant: string) => `${PARTITIONS.tenant}${tenant}`;
export const keyItemKey = (tenant: string, id: string) => ({ pk: tenantPartition(tenant), sk: `${TENANT_ITEMS.key}${id}` });
export const usageMarkerKey = (tenant: string, deltaId: string) => ({ pk: tenantPartition(tenant), sk: `${TENANT_ITEMS.usage}${deltaId}` });
export const declaredPermissionsItemKey = (tenant: string) => ({ pk: tenantPartition(tenant), sk: TENANT_ITEMS.permissions });
export const secretItemKey = (credentialHash: string) => ({ pk: `${PARTITIONS.secret}${credentialHash}`, sk: SECRET_SK });
export const specItemKey = (tenant: string, name: string) => ({ pk: `${PARTITIONS.spec}${tenant}`, sk: name });
export const rotationItemKey = (tenant: string, name: string) => ({ pk: `${PARTITIONS.rotation}${tenant}`, sk: name });
/**
 * The index of rotations that need the sweep (under way, draining or failed): one item per key,
 * `<tenant>/<name>`, so a sweep reads only those, never every key. `_` cannot start a tenant id.
 */
export const ACTIVE_ROTATIONS_PARTITION = `${PARTITIONS.rotation}_active`;
export const activeRotationItemKey = (tenant: string, name: string) => ({ pk: ACTIVE_ROTATIONS_PARTITION, sk: `${tenant}/${name}` });
export const provisionedKeyItemKey = (tenant: string, name: string) => ({ pk: `${PARTITIONS.provisioned}${tenant}`, sk: name });
