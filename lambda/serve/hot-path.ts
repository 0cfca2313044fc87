/**
 * The hot routes on Node, answered straight on Node's response: `GET /healthz`, and
 * `GET /v1/whoami` whenever its key check is decided without I/O (the key cached, its quota
 * leased). Everything else, and every case this path does not decide, goes to the Hono app, which
 * answers the same requests the same way: same status, body, headers and usage count (the hot-path
 * test compares the two on every case). Lambda always uses the app (its front end sets the pace).
 *
 * Why: the key check costs about a microsecond, but going through the app costs more than the
 * check: a WHATWG Request and Response per request, their header objects, and the adapter copying
 * one into Node's. Here the per-key answer body is built once per cached record and the headers
 * are one flat array, so authentication is what a request costs on top of Node's own HTTP.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { errors, type KeyrollError } from '../errors';
import { hashCredential } from '../keys/credential-hash';
import type { ApiKeyRecord } from '../keys/key-record';
import type { RateLimitDecision } from '../rate-limit/rate-limiter';
import type { Verification } from '../verify/key-verifier';
import type { ServeDeps } from './deps';
import { classifyError, errorAnswer } from './error-response';
import { presentedKeyIn } from './presented-key';
import { sourceAddressOf } from './request-origin';
import { jsonHeaders } from './respond';
import { whoamiBody } from './routes/whoami';
import { HEALTH_BODY } from './routes/health';

type HotDeps = Pick<ServeDeps, 'verifier' | 'rateLimiter' | 'usage' | 'extraKeyHeaders' | 'trustedProxyHops' | 'logger'>;

/** Answers the request and returns true, or returns false (untouched) for the app to answer. */
export type HotPath = (incoming: IncomingMessage, outgoing: ServerResponse) => boolean;

interface FixedParts {
  readonly body: Buffer;
  readonly length: string;
  readonly limit: string;
}

const HEALTH_BYTES = Buffer.from(JSON.stringify(HEALTH_BODY));
const HEALTH_HEADERS = ['content-type', 'application/json', 'content-length', String(HEALTH_BYTES.length)];

export function hotPath(deps: HotDeps): HotPath {
  /**
   * Per cached record, the whoami answer's fixed parts: body, its length, the limit header's value.
   * Records are replaced, never changed, so an entry can't go stale; it goes with its record.
   */
  const answers = new WeakMap<ApiKeyRecord, FixedParts>();
  const partsOf = (key: ApiKeyRecord) => {
    let parts = answers.get(key);
    if (!parts) {
      const body = Buffer.from(JSON.stringify(whoamiBody(key)));
      answers.set(key, (parts = { body, length: String(body.length), limit: String(key.rateLimit.limit) }));
    }
    return parts;
  };

  function whoami(incoming: IncomingMessage, outgoing: ServerResponse): boolean {
    let verification: Verification | Promise<Verification>;
    try {
      verification = deps.verifier.verify(presentedKeyIn(incoming.headers, deps.extraKeyHeaders), hasherFor(incoming.socket));
    } catch (thrown) {
      // Refused without I/O (the unknown-key budget): answered here, as the app would.
      const { error, fault } = classifyError(thrown);
      if (fault) return false;
      writeError(outgoing, error, undefined);
      return true;
    }
    // A store read is under way: the app waits for it (its check joins the same read) and answers
    // its failure; this copy of the promise is only let go.
    if (verification instanceof Promise) {
      verification.catch(() => undefined);
      return false;
    }
    if (!verification.ok) {
      // Counted as the app counts it: a known key with its refusal, a retired credential as such.
      const error = errors.verification(verification.code);
      deps.usage.recordRefusal(verification, error.status, sourceAddressOf(incoming, deps.trustedProxyHops));
      writeError(outgoing, error, undefined);
      return true;
    }
    const { key, credentialHash } = verification;
    let decision: RateLimitDecision | Promise<RateLimitDecision>;
    try {
      decision = deps.rateLimiter.consume(key.id, key.rateLimit);
    } catch {
      // Nothing was taken (a closed limiter throws before it counts): the app answers as it does.
      return false;
    }
    if (decision instanceof Promise) {
      decision.then(
        (settled) => answer(incoming, outgoing, key, credentialHash, settled),
        (thrown: unknown) => {
          // As the app's error handler does; like the app, no use is counted when no decision came.
          const { error, fault } = classifyError(thrown);
          if (fault) deps.logger.error('request failed', { path: '/v1/whoami', error: thrown instanceof Error ? `${thrown.name}: ${thrown.message}` : String(thrown) });
          writeError(outgoing, error, undefined);
        },
      );
      return true;
    }
    answer(incoming, outgoing, key, credentialHash, decision);
    return true;
  }

  function answer(incoming: IncomingMessage, outgoing: ServerResponse, key: ApiKeyRecord, credentialHash: string, decision: RateLimitDecision): void {
    const sourceIp = sourceAddressOf(incoming, deps.trustedProxyHops);
    if (!decision.allowed) {
      const error = errors.verification('RATE_LIMIT_EXCEEDED');
      deps.usage.recordUse(key, credentialHash, error.status, sourceIp);
      writeError(outgoing, error, decision);
      return;
    }
    deps.usage.recordUse(key, credentialHash, 200, sourceIp);
    const parts = partsOf(key);
    outgoing.writeHead(200, [
      'content-type',
      'application/json',
      'x-ratelimit-limit',
      // The decision's limit is the record's (the quota is kept per limit); computed once, not per request.
      decision.limit === key.rateLimit.limit ? parts.limit : String(decision.limit),
      'x-ratelimit-remaining',
      String(decision.remaining),
      'x-ratelimit-reset',
      String(decision.reset),
      'content-length',
      parts.length,
    ]);
    outgoing.end(parts.body);
  }

  /**
   * Per connection, a hasher that remembers the last credential and its hash: a keep-alive client
   * sends the same key on every request, and hashing it is the largest part of the key check
   * (~0.5 µs). It lives as long as the connection (whose own buffers held the key anyway), in
   * memory only, and a different key on the same connection is hashed afresh. Comparing against it
   * leaks nothing: the caller sent both strings. One hasher per connection, not a closure per request.
   */
  const hashers = new WeakMap<Socket, (presented: string) => string>();
  function hasherFor(socket: Socket): (presented: string) => string {
    let hasher = hashers.get(socket);
    if (hasher === undefined) {
      let lastPresented: string | undefined;
      let lastHash = '';
      hasher = (presented) => {
        if (presented !== lastPresented) {
          lastHash = hashCredential(presented);
          lastPresented = presented;
        }
        return lastHash;
      };
      hashers.set(socket, hasher);
    }
    return hasher;
  }

  return (incoming, outgoing) => {
    if (incoming.method !== 'GET' || hasBody(incoming)) return false;
    const url = incoming.url;
    if (url === '/healthz') {
      outgoing.writeHead(200, HEALTH_HEADERS);
      outgoing.end(HEALTH_BYTES);
      return true;
    }
    return url === '/v1/whoami' ? whoami(incoming, outgoing) : false;
  };
}

/**
 * A GET with a body is rare and odd: the app (and its unread-body handling) deals with it. (Node
 * builds `incoming.headers` for every request itself, to check Host and TE, so reading it here
 * costs nothing more; scanning `rawHeaders` instead was measured to save nothing.)
 */
function hasBody(incoming: IncomingMessage): boolean {
  return incoming.headers['content-length'] !== undefined || incoming.headers['transfer-encoding'] !== undefined;
}

/** An error answer with the app's headers (respond.ts, error-response.ts): refusals are rare, so no shortcuts. */
function writeError(outgoing: ServerResponse, error: KeyrollError, decision: RateLimitDecision | undefined): void {
  const { status, body, headers } = errorAnswer(error);
  const bytes = Buffer.from(JSON.stringify(body));
  outgoing.writeHead(status, { ...jsonHeaders(decision, headers), 'content-length': String(bytes.length) });
  outgoing.end(bytes);
}
