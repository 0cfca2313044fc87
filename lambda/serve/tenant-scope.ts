/** Tenant and customer isolation for management routes: a key only ever reaches its own tenant's keys. */
import type { Context } from 'hono';
import { errors } from '../errors';
import type { ApiKeyRecord } from '../keys/key-record';
import type { ServeEnv } from './context';

const KEY_ID = /^key_[0-9A-Za-z]{20}$/;

/** The path's tenant, once the caller's key is known to belong to it. */
export function callerTenant(c: Context<ServeEnv>): string {
  const tenant = c.req.param('tenant') ?? '';
  if (c.get('key').tenant !== tenant) throw errors.otherTenant(tenant);
  return tenant;
}

/** The path's key id; a malformed id names no key, so it is a 404 like an unknown one. */
export function pathKeyId(c: Context<ServeEnv>, param = 'id'): string {
  const id = c.req.param(param) ?? '';
  if (!KEY_ID.test(id)) throw errors.keyNotFound(c.req.param('tenant') ?? '', id.slice(0, 64));
  return id;
}

/** A customer-scoped manager sees and changes only its own customer's keys. */
export function assertSameCustomer(caller: ApiKeyRecord, target: ApiKeyRecord): void {
  if (caller.customerId && target.customerId !== caller.customerId) throw errors.otherCustomer(`key \`${target.id}\``);
}

/** Keys created by a customer-scoped manager belong to its customer; it may not create others'. */
export function scopedCustomerId(caller: ApiKeyRecord, requested: string | undefined): string | undefined {
  if (!caller.customerId) return requested;
  if (requested && requested !== caller.customerId) throw errors.otherCustomer(`customer \`${requested}\``);
  return caller.customerId;
}
