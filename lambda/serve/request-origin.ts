/**
 * Where a request came from, for the audit log: the client's IP address and its User-Agent.
 *
 * The address is the connection's peer: on Node the socket's remote address, on Lambda the front
 * end's `requestContext` (function URLs and HTTP APIs: `http.sourceIp`; REST APIs:
 * `identity.sourceIp`). `X-Forwarded-For` is anyone's to write, so it is read only when the
 * service is told how many proxies in front of it append to it (KEYROLL_TRUSTED_PROXY_HOPS): then
 * the address is the one the outermost trusted proxy saw, counted from the right
 * (https://developer.mozilla.org/en-US/docs/Web/HTTP/Reference/Headers/X-Forwarded-For#selecting_an_ip_address).
 */
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import type { Context } from 'hono';
import type { RequestOrigin } from '../audit/audit-log';
import type { ServeEnv } from './context';

export function requestOrigin(c: Context<ServeEnv>, trustedProxyHops = 0): RequestOrigin {
  const sourceIp = sourceAddress(c, trustedProxyHops);
  const userAgent = c.req.header('user-agent');
  return { ...(sourceIp ? { sourceIp } : {}), ...(userAgent ? { userAgent } : {}) };
}

/** The client's IP address (see above); on every authenticated request, so the common case is a property read. */
export function sourceAddress(c: Context<ServeEnv>, trustedProxyHops = 0): string | undefined {
  const peer = peerAddress(c.env);
  return trustedProxyHops <= 0 ? peer : forwardedAddress(c.req.header('x-forwarded-for'), peer, trustedProxyHops);
}

/** The same, from a Node request (the hot path, which has no Hono context). */
export function sourceAddressOf(incoming: IncomingMessage, trustedProxyHops = 0): string | undefined {
  const address = incoming.socket.remoteAddress;
  const peer = address ? normalize(address) : undefined;
  if (trustedProxyHops <= 0) return peer;
  const forwardedFor = incoming.headers['x-forwarded-for'];
  return forwardedAddress(Array.isArray(forwardedFor) ? forwardedFor.join(', ') : forwardedFor, peer, trustedProxyHops);
}

function forwardedAddress(forwardedFor: string | undefined, peer: string | undefined, trustedProxyHops: number): string | undefined {
  const forwarded = (forwardedFor ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);
  // With n trusted proxies, the last n entries were written by them; the one before is the client.
  // A shorter header means the request skipped a proxy: the peer is all that can be trusted.
  const candidate = forwarded.length >= trustedProxyHops ? forwarded[forwarded.length - trustedProxyHops] : undefined;
  return candidate && isIP(normalize(candidate)) ? normalize(candidate) : peer;
}

/**
 * The peer as the socket (Node) or the front end (Lambda) reports it: those are addresses, not
 * client input, so they are not parsed again (a request path cost); only the dual-stack prefix goes.
 */
function peerAddress(env: unknown): string | undefined {
  const bindings = env as {
    incoming?: { socket?: { remoteAddress?: string } };
    requestContext?: { http?: { sourceIp?: string }; identity?: { sourceIp?: string } };
  } | undefined;
  const address = bindings?.incoming?.socket?.remoteAddress ?? bindings?.requestContext?.http?.sourceIp ?? bindings?.requestContext?.identity?.sourceIp;
  return address ? normalize(address) : undefined;
}

/** `::ffff:192.0.2.1` (an IPv4 client on a dual-stack socket) is 192.0.2.1. */
function normalize(address: string): string {
  return address.startsWith('::ffff:') && address.indexOf(':', 7) < 0 ? address.slice(7) : address;
}
