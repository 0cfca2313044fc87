/**
 * How testSecret asks "does the key service accept this credential for this permission?". With the
 * service's URL (KEYROLL_SERVICE_URL, set by the deploy) it asks the running service through
 * `POST /v1/verify`, exactly as the key's users will meet it. Without one it runs the service's own
 * verifier against the keys table, which says the same of the stored record but not of a running
 * service's caches.
 */
import { isEnvironment } from '../keys/environments';
import { parseKey } from '../keys/key-format';
import { hasPermission } from '../keys/permissions';
import type { KeyStore } from '../store/key-store';
import { KeyVerifier } from '../verify/key-verifier';
import type { CredentialCheck, VerifierPort } from './ports';

/** Asks the running key service; a network failure throws (the step fails, SM retries). */
export function serviceVerifier(serviceUrl: string, fetchImpl: typeof fetch = fetch): VerifierPort {
  const url = new URL('v1/verify', serviceUrl.endsWith('/') ? serviceUrl : `${serviceUrl}/`);
  return {
    async check(credential, permission): Promise<CredentialCheck> {
      const response = await fetchImpl(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ key: credential, permission }),
        signal: AbortSignal.timeout(5_000),
      });
      if (response.status >= 500) throw new Error(`The key service at ${url.origin} answered ${response.status} to /v1/verify.`);
      const body = (await response.json().catch(() => ({}))) as { valid?: unknown; code?: unknown };
      return body.valid === true ? { ok: true } : { ok: false, code: typeof body.code === 'string' ? body.code : `HTTP_${response.status}` };
    },
  };
}

/** Runs the key service's verifier against the store, in the credential's own environment, uncached. */
export function storeVerifier(store: Pick<KeyStore, 'findKeyBySecretHash'>): VerifierPort {
  return {
    async check(credential, permission): Promise<CredentialCheck> {
      const environment = parseKey(credential)?.environment;
      if (!isEnvironment(environment)) return { ok: false, code: 'INVALID_API_KEY' };
      // A fresh verifier per check: nothing cached, the stored record decides.
      const verification = await new KeyVerifier({ store, environment }).verify(credential);
      if (!verification.ok) return { ok: false, code: verification.code };
      return hasPermission(verification.key.permissions, permission) ? { ok: true } : { ok: false, code: 'INSUFFICIENT_PERMISSIONS' };
    },
  };
}
