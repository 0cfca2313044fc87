/**
 * The console's session, per request: the cookie (HttpOnly, SameSite=Strict, Secure on https),
 * the session record, and the management key it names, re-read from the store every time. A key
 * that is no longer active, no longer holds keys:manage, belongs to another environment than this
 * service's, or no longer accepts the credential that signed in, ends the session.
 */
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { type ApiKeyRecord, acceptsCredential, keyStatus } from '../keys/key-record';
import { hasPermission, PERMISSIONS } from '../keys/permissions';
import type { KeyManager } from '../manage/key-manager';
import type { ServeEnv } from '../serve/context';
import { type ConsoleSession, type ConsoleSessions, SESSION_MAX_AGE_MS } from './console-sessions';
import { isHttps } from './security';
import type { Environment } from '../keys/environments';

/** `__Host-` on https: the browser then refuses it unless Secure, host-only and Path=/. */
export function cookieName(c: Context): string {
  return isHttps(c) ? '__Host-keyroll-console' : 'keyroll-console';
}

export function setSessionCookie(c: Context, id: string): void {
  const secure = isHttps(c);
  setCookie(c, cookieName(c), id, {
    httpOnly: true,
    sameSite: 'Strict',
    secure,
    path: secure ? '/' : '/console',
    maxAge: Math.floor(SESSION_MAX_AGE_MS / 1000),
  });
}

export function clearSessionCookie(c: Context): void {
  const secure = isHttps(c);
  deleteCookie(c, cookieName(c), { path: secure ? '/' : '/console', secure, ...(secure ? { prefix: 'host' as const } : {}) });
}

export function sessionCookie(c: Context): string | undefined {
  const value = getCookie(c, cookieName(c));
  return value && value.length <= 100 ? value : undefined;
}

/** Why the caller's key may no longer manage keys here; undefined when it still may. */
export function keyRefusal(key: ApiKeyRecord, credentialHash: string, environment: Environment, nowMs: number): string | undefined {
  const status = keyStatus(key, nowMs);
  if (status !== 'active') return `your management key is ${status === 'inactive' ? 'disabled' : status}`;
  if (!acceptsCredential(key, credentialHash, nowMs)) return 'your management key was regenerated';
  if (!hasPermission(key.permissions, PERMISSIONS.keysManage)) return 'your management key no longer holds keys:manage';
  if (key.environment !== environment) return `your management key is a ${key.environment} key and this service runs as ${environment}`;
  return undefined;
}

export interface SignedInCaller {
  readonly id: string;
  readonly session: ConsoleSession;
  readonly key: ApiKeyRecord;
}

export type SessionLookup = { readonly ok: true; readonly caller: SignedInCaller } | { readonly ok: false; readonly reason?: string };

/** The request's session and its key, re-read; ends a session whose key may no longer sign in. */
export async function currentCaller(
  c: Context<ServeEnv>,
  deps: { readonly sessions: ConsoleSessions; readonly manager: KeyManager; readonly environment: Environment },
): Promise<SessionLookup> {
  const id = sessionCookie(c);
  if (!id) return { ok: false };
  const session = await deps.sessions.get(id);
  if (!session) return { ok: false, reason: 'Your session ended (signed out, or idle too long). Sign in again.' };
  const key = await deps.manager.get(session.tenant, session.keyId).catch(() => undefined);
  const refusal = key ? keyRefusal(key, session.credentialHash, deps.environment, Date.now()) : 'your management key no longer exists';
  if (!key || refusal) {
    await deps.sessions.end(id);
    return { ok: false, reason: `Your session ended: ${refusal}.` };
  }
  return { ok: true, caller: { id, session, key } };
}
