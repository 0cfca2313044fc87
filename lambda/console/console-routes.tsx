/**
 * `/console`: the API keys console, rendered on the server with Hono JSX. Sign-in and sessions are
 * its own (session.ts, console-sessions.ts); everything it does to keys goes through the API's
 * routes in-process (api-bridge.ts), so it is authorized exactly as the API is.
 */
import type { Context } from 'hono';
import { Hono } from 'hono';
import type { Alert } from '../alerts/alert';
import { environmentsManagedBy } from '../keys/environments';
import { knownPermissions } from '../keys/permission-registry';
import { firstMissingPermission, hasPermission, PERMISSIONS } from '../keys/permissions';
import type { ServeEnv } from '../serve/context';
import type { ServeDeps } from '../serve/deps';
import type { SeriesPoint } from '../usage/usage-series';
import { type ApiAnswer, ApiBridge, type BridgeCaller } from './api-bridge';
import { assetRoutes } from './assets';
import type { ConsoleSessions } from './console-sessions';
import type { RotationStatusSource } from './rotation-status';
import { fromOwnOrigin, hasCsrfToken, securityHeaders } from './security';
import { clearSessionCookie, currentCaller, keyRefusal, type SignedInCaller, sessionCookie, setSessionCookie } from './session';
import { AlertsPage } from './views/alerts-page';
import { GRACE_CHOICES, NotFoundPage, RegeneratePage, RevealPage, RevokePage } from './views/confirm';
import type { KeyView } from './views/format';
import { type AuditEntryView, KeyDetailPage, type Loaded } from './views/key-detail';
import { CreateKeyPage, EditKeyPage, type FormValues, formValuesOf } from './views/key-form';
import { KeyListPage, type ListFilters } from './views/key-list';
import type { RecentAlerts, SignedIn } from './views/layout';
import { RotationSection } from './views/rotation-section';
import { SignInLinkPage, SignInPage } from './views/sign-in';

export interface ConsoleDeps extends ServeDeps {
  readonly sessions: ConsoleSessions;
  readonly rotationStatus: RotationStatusSource;
}

export const LIST_PAGE_SIZE = 20;
/** How much of the tenant the list reads, at most: the API's pages of 1,000. */
const MAX_LIST_PAGES = 20;
export const ALERTS_PAGE_SIZE = 25;
/** A key's page shows its newest alerts, and links to the rest. */
const KEY_ALERTS_SHOWN = 10;
/** The navigation's badge counts at most this many of the last 24 hours' alerts (one API page), then says "+". */
const RECENT_ALERTS_READ = 50;
const RECENT_ALERTS_MS = 24 * 3_600_000;

/** What a finished action says on the page it lands on; fixed texts, so no URL can put words there. */
const DONE: Record<string, string> = {
  created: 'Key created.',
  updated: 'Changes saved.',
  disabled: 'Key disabled: requests with it are refused until it is enabled again.',
  enabled: 'Key enabled.',
  revoked: 'Key revoked.',
  regenerated: 'Key regenerated.',
  rotation: 'Rotation started: its progress shows below.',
};

type Body = Record<string, string | File | (string | File)[]>;

/** The signed-in caller of a full page, with what its navigation shows. */
type PageCaller = SignedInCaller & { readonly recentAlerts?: RecentAlerts };

export function consoleRoutes(deps: ConsoleDeps): Hono<ServeEnv> {
  const bridge = new ApiBridge(deps);
  const routes = new Hono<ServeEnv>();
  routes.use('*', securityHeaders());
  routes.route('/', assetRoutes());

  // --- Sign-in, sign-out -------------------------------------------------------------------
  routes.get('/sign-in', (c) => c.html(<SignInPage />));

  routes.post('/sign-in', async (c) => {
    if (!fromOwnOrigin(c)) return forbiddenOrigin(c);
    const pasted = field(await c.req.parseBody(), 'key')?.trim();
    const verification = await deps.verifier.verify(pasted);
    const refusal = !verification.ok
      ? verification.code === 'ENVIRONMENT_MISMATCH'
        ? `That key belongs to another environment than this service's (${deps.environment}).`
        : 'That is not a key this service accepts: check that it was copied whole, and that it is not revoked, disabled or expired.'
      : !hasPermission(verification.key.permissions, PERMISSIONS.keysManage)
        ? 'That key does not hold keys:manage, which the console needs. Sign in with a key manager (the owner key holds every permission).'
        : undefined;
    if (!verification.ok || refusal) return c.html(<SignInPage error={{ code: 'SIGN_IN_REFUSED', message: refusal }} />, 401);
    const { id } = await deps.sessions.create({ tenant: verification.key.tenant, keyId: verification.key.id, credentialHash: verification.credentialHash });
    setSessionCookie(c, id);
    return c.redirect('/console', 303);
  });

  // A GET only shows the button: link scanners and previews that fetch URLs must not use it up.
  routes.get('/sign-in/link', (c) => {
    const token = c.req.query('token') ?? '';
    if (!/^[A-Za-z0-9_-]{20,100}$/.test(token)) return c.html(<SignInPage error={{ code: 'SIGN_IN_LINK_INVALID', message: 'This sign-in link is malformed. Run `npx keyroll console --tenant <tenant>` for a new one.' }} />, 400);
    return c.html(<SignInLinkPage token={token} />);
  });

  routes.post('/sign-in/link', async (c) => {
    if (!fromOwnOrigin(c)) return forbiddenOrigin(c);
    const token = field(await c.req.parseBody(), 'token') ?? '';
    const grant = /^[A-Za-z0-9_-]{20,100}$/.test(token) ? await deps.sessions.consumeLink(token) : undefined;
    const linkError = (message: string) => c.html(<SignInPage error={{ code: 'SIGN_IN_LINK_INVALID', message }} />, 401);
    if (!grant) return linkError('This sign-in link was already used or has expired (links work once, for 10 minutes). Run `npx keyroll console --tenant <tenant>` for a new one.');
    const key = await deps.manager.get(grant.tenant, grant.keyId).catch(() => undefined);
    const refusal = key ? keyRefusal(key, grant.credentialHash, deps.environment, Date.now()) : 'its key no longer exists';
    if (refusal) return linkError(`This sign-in link no longer works: ${refusal}.`);
    const { id } = await deps.sessions.create(grant);
    setSessionCookie(c, id);
    return c.redirect('/console', 303);
  });

  routes.post('/sign-out', async (c) => {
    const lookup = await currentCaller(c, deps);
    if (lookup.ok) {
      const body = await c.req.parseBody();
      if (!fromOwnOrigin(c) || !hasCsrfToken(field(body, '_csrf'), lookup.caller.session.csrfToken)) return forbiddenCsrf(c);
      await deps.sessions.end(lookup.caller.id);
    } else {
      const id = sessionCookie(c);
      if (id) await deps.sessions.end(id);
    }
    clearSessionCookie(c);
    return c.html(<SignInPage notice="You are signed out." />);
  });

  // --- Signed-in pages ---------------------------------------------------------------------
  /**
   * Runs `handler` for a signed-in caller; POSTs also pass the Origin and CSRF token checks. A GET
   * of a full page also reads the recent alerts for the navigation's badge (a fragment does not).
   */
  const signedIn =
    (handler: (c: Context<ServeEnv>, caller: PageCaller, body: Body | undefined) => Promise<Response> | Response, options: { readonly fragment?: boolean } = {}) =>
    async (c: Context<ServeEnv>) => {
      const lookup = await currentCaller(c, deps);
      if (!lookup.ok) {
        if (lookup.reason) clearSessionCookie(c);
        if (c.req.method === 'GET' && !lookup.reason) return c.redirect('/console/sign-in', 303);
        if (wantsJson(c)) return c.json({ error: { code: 'SESSION_ENDED', message: lookup.reason ?? 'Sign in first.' } }, 401);
        return c.html(<SignInPage error={lookup.reason ? { code: 'SESSION_ENDED', message: lookup.reason } : undefined} />, 401);
      }
      let body: Body | undefined;
      if (c.req.method === 'POST') {
        body = await c.req.parseBody({ all: true });
        const token = c.req.header('x-csrf-token') ?? field(body, '_csrf');
        if (!fromOwnOrigin(c) || !hasCsrfToken(token, lookup.caller.session.csrfToken)) return forbiddenCsrf(c);
      }
      if (c.req.method === 'GET' && !options.fragment) return handler(c, { ...lookup.caller, recentAlerts: await recentAlerts(c, lookup.caller) }, body);
      return handler(c, lookup.caller, body);
    };

  routes.get('/', signedIn(async (c, caller) => {
    const filters: ListFilters = { environment: c.req.query('environment') || undefined, status: c.req.query('status') || undefined, q: c.req.query('q')?.trim() || undefined };
    const all = await listKeys(c, caller);
    if (!all.ok) return c.html(<NotFoundPage signedIn={signedInView(caller)} error={all.error} />, all.status as 400);
    const nowMs = Date.now();
    const matching = all.keys.filter((key) => matches(key, filters));
    const pages = Math.max(1, Math.ceil(matching.length / LIST_PAGE_SIZE));
    const page = Math.min(pages, Math.max(1, Number.parseInt(c.req.query('page') ?? '1', 10) || 1));
    const shown = matching.slice((page - 1) * LIST_PAGE_SIZE, page * LIST_PAGE_SIZE);
    return c.html(
      <KeyListPage signedIn={signedInView(caller)} keys={shown} filters={filters} page={page} pages={pages} total={matching.length} nowMs={nowMs} notice={DONE[c.req.query('done') ?? '']} />,
    );
  }));

  routes.get('/keys/new', signedIn(async (c, caller) => {
    return c.html(
      <CreateKeyPage signedIn={signedInView(caller)} environments={environmentsManagedBy(caller.key.environment)} permissions={await grantable(caller)} values={{}} />,
    );
  }));

  routes.post('/keys', signedIn(async (c, caller, body) => {
    const values = formValues(body ?? {});
    const input: Record<string, unknown> = { name: values.name, environment: values.environment, permissions: values.permissions, ...configurationInput(values) };
    const answer = await bridge.call(c, bridgeCaller(caller), 'POST', `/v1/tenants/${caller.key.tenant}/api-keys`, input);
    if (!answer.ok) {
      if (wantsJson(c)) return c.json(answer.body, answer.status as 400);
      const page = <CreateKeyPage signedIn={signedInView(caller)} environments={environmentsManagedBy(caller.key.environment)} permissions={await grantable(caller)} values={values} error={answer.body?.error} />;
      return c.html(page, answer.status as 400);
    }
    return revealed(c, caller, answer, `/console/keys/${answer.body.id}?done=created`, `Your new API key: ${answer.body.name}`);
  }));

  routes.get('/keys/:id', signedIn(async (c, caller) => {
    const key = await readKey(c, caller);
    if (!key.ok) return key.page;
    const tenant = caller.key.tenant;
    const from = new Date(Date.now() - 59 * 60_000).toISOString();
    const [usage, audit, alerts, rotation] = await Promise.all([
      bridge.call(c, bridgeCaller(caller), 'GET', `/v1/tenants/${tenant}/api-keys/${key.view.id}/usage?granularity=minute&from=${encodeURIComponent(from)}`),
      bridge.call(c, bridgeCaller(caller), 'GET', `/v1/tenants/${tenant}/audit?keyId=${key.view.id}&limit=20`),
      bridge.call(c, bridgeCaller(caller), 'GET', `/v1/tenants/${tenant}/alerts?keyId=${key.view.id}&limit=${KEY_ALERTS_SHOWN}`),
      key.view.declared ? deps.rotationStatus(tenant) : Promise.resolve(undefined),
    ]);
    const done = c.req.query('done') ?? '';
    return c.html(
      <KeyDetailPage
        signedIn={signedInView(caller)}
        item={key.view}
        usage={loaded<SeriesPoint[]>(usage, (body) => body.series)}
        audit={loaded<AuditEntryView[]>(audit, (body) => body.entries)}
        alerts={loaded(alerts, (body) => ({ alerts: body.alerts as Alert[], more: Boolean(body.nextCursor) }))}
        rotation={rotation}
        rotationStarted={done === 'rotation'}
        nowMs={Date.now()}
        notice={DONE[done]}
      />,
    );
  }));

  // The rotation section alone, for the client script's polling while a rotation is under way.
  routes.get('/keys/:id/rotation', signedIn(async (c, caller) => {
    const key = await readKey(c, caller);
    if (!key.ok) return key.page;
    if (!key.view.declared) return c.body(null, 204);
    return c.html(<RotationSection keyId={key.view.id} answer={await deps.rotationStatus(caller.key.tenant)} declaredName={key.view.declared.name} />);
  }, { fragment: true }));

  routes.get('/keys/:id/edit', signedIn(async (c, caller) => {
    const key = await readKey(c, caller);
    if (!key.ok) return key.page;
    return c.html(<EditKeyPage signedIn={signedInView(caller)} item={key.view} values={formValuesOf(key.view)} permissions={await grantable(caller, key.view.permissions)} />);
  }));

  routes.post('/keys/:id/edit', signedIn(async (c, caller, body) => {
    const key = await readKey(c, caller);
    if (!key.ok) return key.page;
    const values = formValues(body ?? {});
    const patch = changedFields(key.view, values);
    if (Object.keys(patch).length === 0) return c.redirect(`/console/keys/${key.view.id}`, 303);
    const answer = await bridge.call(c, bridgeCaller(caller), 'PATCH', `/v1/tenants/${caller.key.tenant}/api-keys/${key.view.id}`, patch);
    if (!answer.ok) {
      const page = <EditKeyPage signedIn={signedInView(caller)} item={key.view} values={values} permissions={await grantable(caller, key.view.permissions)} error={answer.body?.error} />;
      return c.html(page, answer.status as 400);
    }
    return c.redirect(`/console/keys/${key.view.id}?done=updated`, 303);
  }));

  routes.post('/keys/:id/enabled', signedIn(async (c, caller, body) => {
    const id = c.req.param('id');
    const enabled = field(body ?? {}, 'enabled') === 'true';
    const answer = await bridge.call(c, bridgeCaller(caller), 'PATCH', `/v1/tenants/${caller.key.tenant}/api-keys/${id}`, { enabled });
    if (!answer.ok) return c.html(<NotFoundPage signedIn={signedInView(caller)} error={answer.body?.error} />, answer.status as 400);
    return c.redirect(`/console/keys/${id}?done=${enabled ? 'enabled' : 'disabled'}`, 303);
  }));

  routes.get('/keys/:id/regenerate', signedIn(async (c, caller) => {
    const key = await readKey(c, caller);
    if (!key.ok) return key.page;
    return c.html(<RegeneratePage signedIn={signedInView(caller)} item={key.view} />);
  }));

  routes.post('/keys/:id/regenerate', signedIn(async (c, caller, body) => {
    const id = c.req.param('id');
    const grace = field(body ?? {}, 'graceSeconds');
    const input = grace !== undefined ? { graceSeconds: GRACE_CHOICES.some((choice) => String(choice.seconds) === grace) ? Number(grace) : Number.NaN } : {};
    const answer = await bridge.call(c, bridgeCaller(caller), 'POST', `/v1/tenants/${caller.key.tenant}/api-keys/${id}/regenerate`, input);
    if (!answer.ok) {
      if (wantsJson(c)) return c.json(answer.body, answer.status as 400);
      const key = await readKey(c, caller);
      if (!key.ok) return key.page;
      return c.html(<RegeneratePage signedIn={signedInView(caller)} item={key.view} error={answer.body?.error} />, answer.status as 400);
    }
    // 202: a declared key's rotation started; no key to show.
    if (answer.status === 202) {
      const next = `/console/keys/${id}?done=rotation`;
      return wantsJson(c) ? c.json({ next }) : c.redirect(next, 303);
    }
    return revealed(c, caller, answer, `/console/keys/${id}?done=regenerated`, `The new key for ${answer.body.name}`);
  }));

  routes.get('/keys/:id/revoke', signedIn(async (c, caller) => {
    const key = await readKey(c, caller);
    if (!key.ok) return key.page;
    return c.html(<RevokePage signedIn={signedInView(caller)} item={key.view} />);
  }));

  routes.post('/keys/:id/revoke', signedIn(async (c, caller) => {
    const id = c.req.param('id');
    const answer = await bridge.call(c, bridgeCaller(caller), 'POST', `/v1/tenants/${caller.key.tenant}/api-keys/${id}/revoke`);
    if (!answer.ok) return c.html(<NotFoundPage signedIn={signedInView(caller)} error={answer.body?.error} />, answer.status as 400);
    return c.redirect(`/console/keys/${id}?done=revoked`, 303);
  }));

  // --- Alerts ---------------------------------------------------------------------------------
  // The API validates the filters and the cursor; a refusal shows its code and how to fix it.
  routes.get('/alerts', signedIn(async (c, caller) => {
    const filters = { type: c.req.query('type') || undefined, keyId: c.req.query('keyId') || undefined };
    const cursor = c.req.query('cursor') || undefined;
    const query = new URLSearchParams({ limit: String(ALERTS_PAGE_SIZE) });
    if (filters.type) query.set('type', filters.type);
    if (filters.keyId) query.set('keyId', filters.keyId);
    if (cursor) query.set('cursor', cursor);
    const answer = await bridge.call(c, bridgeCaller(caller), 'GET', `/v1/tenants/${caller.key.tenant}/alerts?${query}`);
    const page = { signedIn: signedInView(caller), filters, cursor, nowMs: Date.now() };
    if (!answer.ok) {
      const error = answer.body?.error ?? { message: `the API answered ${answer.status}` };
      return c.html(<AlertsPage {...page} alerts={[]} nextCursor={null} error={error} />, answer.status as 400);
    }
    return c.html(<AlertsPage {...page} alerts={answer.body.alerts as Alert[]} nextCursor={answer.body.nextCursor ?? null} />);
  }));

  return routes;

  // --- Helpers over deps and the bridge ------------------------------------------------------
  async function listKeys(c: Context<ServeEnv>, caller: SignedInCaller): Promise<{ ok: true; keys: KeyView[] } | { ok: false; status: number; error: { code?: string; message?: string } }> {
    const keys: KeyView[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < MAX_LIST_PAGES; page++) {
      const query: string = `limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const answer: ApiAnswer = await bridge.call(c, bridgeCaller(caller), 'GET', `/v1/tenants/${caller.key.tenant}/api-keys?${query}`);
      if (!answer.ok) return { ok: false, status: answer.status, error: answer.body?.error ?? {} };
      keys.push(...(answer.body.keys as KeyView[]));
      cursor = answer.body.nextCursor;
      if (!cursor) break;
    }
    // Newest first: what was just created is at the top.
    return { ok: true, keys: keys.sort((a, b) => b.createdAt.localeCompare(a.createdAt)) };
  }

  async function readKey(c: Context<ServeEnv>, caller: SignedInCaller): Promise<{ ok: true; view: KeyView } | { ok: false; page: Response | Promise<Response> }> {
    const answer = await bridge.call<KeyView>(c, bridgeCaller(caller), 'GET', `/v1/tenants/${caller.key.tenant}/api-keys/${encodeURIComponent(c.req.param('id') ?? '')}`);
    if (answer.ok) return { ok: true, view: answer.body };
    return { ok: false, page: c.html(<NotFoundPage signedIn={signedInView(caller)} error={(answer.body as any)?.error} />, answer.status as 404) };
  }

  /** Alerts of the last 24 hours the caller may see; none when they cannot be read (the badge is left out). */
  async function recentAlerts(c: Context<ServeEnv>, caller: SignedInCaller): Promise<RecentAlerts | undefined> {
    const answer = await bridge.call(c, bridgeCaller(caller), 'GET', `/v1/tenants/${caller.key.tenant}/alerts?limit=${RECENT_ALERTS_READ}`).catch(() => undefined);
    if (!answer?.ok) return undefined;
    const alerts = answer.body.alerts as Alert[];
    const since = Date.now() - RECENT_ALERTS_MS;
    // Newest first: once one is older than 24 h, so are the rest.
    const count = alerts.filter((alert) => Date.parse(alert.at) >= since).length;
    return { count, more: count === alerts.length && Boolean(answer.body.nextCursor) };
  }

  /** The tenant's known permissions that the caller could grant (the API's own rule), plus those the key already has. */
  async function grantable(caller: SignedInCaller, already: readonly string[] = []): Promise<string[]> {
    const known = knownPermissions(await deps.declaredPermissions.get(caller.key.tenant));
    const offered = known.filter((permission) => !firstMissingPermission(caller.key.permissions, [permission]));
    return [...new Set([...offered, ...already])];
  }
}

function bridgeCaller(caller: SignedInCaller): BridgeCaller {
  return { key: caller.key, credentialHash: caller.session.credentialHash };
}

function signedInView(caller: PageCaller): SignedIn {
  return { tenant: caller.key.tenant, keyName: caller.key.name, keyId: caller.key.id, csrfToken: caller.session.csrfToken, ...(caller.recentAlerts ? { recentAlerts: caller.recentAlerts } : {}) };
}

/** The key is in the answer once: JSON for the client script's dialog, else a page of its own. */
function revealed(c: Context<ServeEnv>, caller: SignedInCaller, answer: ApiAnswer, next: string, title: string): Response | Promise<Response> {
  const key = String(answer.body.key);
  if (wantsJson(c)) return c.json({ id: answer.body.id, name: answer.body.name, key, next, title }, 201);
  return c.html(<RevealPage signedIn={signedInView(caller)} secret={key} next={next} name={answer.body.name} />, 201);
}

function loaded<T>(answer: ApiAnswer, pick: (body: any) => T): Loaded<T> {
  if (answer.ok) return { ok: true, value: pick(answer.body) };
  return { ok: false, reason: answer.body?.error?.message ?? `the API answered ${answer.status}` };
}

function matches(key: KeyView, filters: ListFilters): boolean {
  if (filters.environment && key.environment !== filters.environment) return false;
  if (filters.status && key.status !== filters.status) return false;
  if (filters.q) {
    const q = filters.q.toLowerCase();
    if (!key.name.toLowerCase().includes(q) && !key.tags.some((tag) => tag.toLowerCase().includes(q))) return false;
  }
  return true;
}

function wantsJson(c: Context): boolean {
  return (c.req.header('accept') ?? '').includes('application/json');
}

function field(body: Body, name: string): string | undefined {
  const value = body[name];
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === 'string' ? first : undefined;
}

function fieldList(body: Body, name: string): string[] {
  const value = body[name];
  return (Array.isArray(value) ? value : value === undefined ? [] : [value]).filter((entry): entry is string => typeof entry === 'string');
}

function formValues(body: Body): FormValues {
  return {
    name: field(body, 'name'),
    environment: field(body, 'environment'),
    permissions: fieldList(body, 'permissions'),
    limit: field(body, 'limit'),
    windowSeconds: field(body, 'windowSeconds'),
    expires: field(body, 'expires'),
    tags: field(body, 'tags'),
  };
}

/** The form's rate limit, expiry and tags as the API takes them; the API validates them. */
function configurationInput(values: FormValues): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  if (values.limit || values.windowSeconds) input.rateLimit = { limit: numberOrNull(values.limit), windowSeconds: numberOrNull(values.windowSeconds) };
  if (values.expires) input.expiresAt = `${values.expires}T00:00:00Z`;
  const tags = tagList(values.tags);
  if (tags.length > 0) input.tags = tags;
  return input;
}

/** PATCH only what changed: a key editing itself may not even restate its own locked fields. */
function changedFields(key: KeyView, values: FormValues): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  if (values.name !== undefined && values.name !== key.name) patch.name = values.name;
  const permissions = values.permissions ?? [];
  if (permissions.join('\n') !== key.permissions.join('\n')) patch.permissions = permissions;
  const limit = numberOrNull(values.limit);
  const windowSeconds = numberOrNull(values.windowSeconds);
  if (limit !== key.rateLimit.limit || windowSeconds !== key.rateLimit.windowSeconds) patch.rateLimit = { limit, windowSeconds };
  const expiresAt = values.expires ? `${values.expires}T00:00:00Z` : null;
  const current = key.expiresAt ? key.expiresAt.slice(0, 10) : '';
  if ((values.expires ?? '') !== current) patch.expiresAt = expiresAt;
  const tags = tagList(values.tags);
  if (tags.join('\n') !== key.tags.join('\n')) patch.tags = tags;
  return patch;
}

function numberOrNull(text: string | undefined): number | null {
  if (text === undefined || text.trim() === '') return null;
  const value = Number(text);
  return Number.isFinite(value) ? value : null;
}

function tagList(text: string | undefined): string[] {
  return (text ?? '')
    .split(',')
    .map((tag) => tag.trim())
    .filter(Boolean);
}

function forbiddenOrigin(c: Context<ServeEnv>): Response | Promise<Response> {
  return c.html(<SignInPage error={{ code: 'FORBIDDEN', message: 'This request did not come from the console’s own pages (its Origin is another site’s).' }} />, 403);
}

function forbiddenCsrf(c: Context<ServeEnv>): Response | Promise<Response> {
  const message = 'This change did not come from a console page of this session (its Origin or CSRF token is missing or wrong). Reload the page and try again.';
  if (wantsJson(c)) return c.json({ error: { code: 'CSRF_REFUSED', message } }, 403);
  return c.html(<NotFoundPage error={{ code: 'CSRF_REFUSED', message }} />, 403);
}
