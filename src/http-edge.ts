import type { FastifyInstance } from 'fastify';
import type { IncomingHttpHeaders } from 'node:http';
import { ArmError } from './arm/errors.js';

/**
 * What every request must show before any plane sees it: a valid Host header, a loopback host name when amlite
 * listens on loopback only (so a web page cannot reach it through DNS rebinding), and no state-changing request sent
 * by a browser on behalf of another site (cross-site request forgery).
 */

/** The methods that change something; a browser sends them cross-site without asking (simple forms) or after CORS. */
const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** `host[:port]` as RFC 9110 allows it: a reg-name, IPv4 or bracketed IPv6 address, an optional (maybe empty) port. */
const HOST_HEADER = /^(\[[0-9a-f:.]+\]|[a-z0-9._~!$&'()*+,;=%-]+)(?::(\d{0,5}))?$/i;

export interface EdgeOptions {
  /** The server listens on a loopback address only: every request must name a loopback host. */
  loopbackOnly: boolean;
}

/** The Host header rules and the cross-site rule on every route of `app` (registered before the planes). */
export function installEdgeRules(app: FastifyInstance, options: EdgeOptions): void {
  // Clients send the same Host on every request: the hosts found acceptable are remembered (a few, so a client
  // varying its Host cannot grow the set), and the check costs a Set lookup on the hot path.
  const accepted = new Set<string>();
  // Callback-style: no promise per request.
  app.addHook('onRequest', (req, _reply, done) => {
    const host = req.headers.host;
    if (host === undefined || !accepted.has(host)) {
      const refused = hostRefusal(host, options.loopbackOnly);
      if (refused) return done(refused);
      if (accepted.size < ACCEPTED_HOSTS_REMEMBERED) accepted.add(host!);
    }
    const refusal = crossSiteRefusal(req.method, req.headers);
    done(refusal);
  });
}

/** How many distinct acceptable Host values the edge remembers (beyond it, each is checked again). */
const ACCEPTED_HOSTS_REMEMBERED = 16;

/** Why a Host header is refused (400 invalid, 403 not loopback while bound to loopback), or undefined. */
export function hostRefusal(host: string | undefined, loopbackOnly: boolean): ArmError | undefined {
  const match = host ? HOST_HEADER.exec(host) : null;
  if (!host || !match || (match[2] && Number(match[2]) > 65535)) {
    const shown = host === undefined ? 'none' : `'${printable(host)}'`;
    return new ArmError(
      400,
      'InvalidHostHeader',
      `The request needs a Host header naming a host and an optional port from 0 to 65535 (got ${shown}).`,
      'Host',
    );
  }
  if (loopbackOnly && !isLoopbackHost(host)) {
    return new ArmError(
      403,
      'Forbidden',
      `amlite listens on loopback only and answers under a loopback host name ` +
        `(localhost, 127.x.x.x, [::1]), not '${printable(host)}'; this refuses web pages reaching it through DNS ` +
        'rebinding. Call it as https://127.0.0.1:<port>, or listen on another address with --host.',
      'Host',
    );
  }
  return undefined;
}

/**
 * Why a state-changing request is refused as sent by a browser for another site, or undefined. Browsers set
 * Sec-Fetch-Site themselves (trusted when present); older ones only send Origin, compared with the Host called.
 * Non-browser clients send neither and are never affected.
 */
export function crossSiteRefusal(method: string, headers: IncomingHttpHeaders): ArmError | undefined {
  if (!STATE_CHANGING.has(method.toUpperCase())) return undefined;
  const site = headerValue(headers['sec-fetch-site'])?.toLowerCase();
  const origin = headerValue(headers.origin);
  const foreign =
    site !== undefined
      ? site !== 'same-origin' && site !== 'none'
      : origin !== undefined && !sameHost(origin, headers.host ?? '');
  if (!foreign) return undefined;
  const from = site !== undefined ? `Sec-Fetch-Site: ${printable(site)}` : `Origin: ${printable(origin ?? '')}`;
  return new ArmError(
    403,
    'Forbidden',
    `amlite refuses ${method} requests a browser sends from another site ` +
      `(${from}): cross-site request forgery protection. Send them from the same origin, or from a non-browser client.`,
  );
}

/** A client on this machine (IPv4 127.0.0.0/8, IPv6 ::1, or IPv4-mapped loopback). */
export function isLoopbackAddress(address: string): boolean {
  const a = address.toLowerCase().replace(/^::ffff:/, '');
  return a === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a);
}

/** A Host header (with any port) naming this machine: localhost, *.localhost, 127.x.x.x or [::1]. */
export function isLoopbackHost(host: string): boolean {
  let hostname: string;
  try {
    hostname = new URL(`http://${host}`).hostname.toLowerCase();
  } catch {
    return false;
  }
  return isLoopbackName(hostname);
}

/** A listen address (`--host`) that only this machine can reach. */
export function isLoopbackBind(address: string): boolean {
  const bare = address.replace(/^\[(.*)\]$/, '$1');
  return isLoopbackName(bare.includes(':') ? `[${bare.toLowerCase()}]` : bare.toLowerCase());
}

function isLoopbackName(hostname: string): boolean {
  return (
    hostname === 'localhost' ||
    hostname.endsWith('.localhost') ||
    hostname === '[::1]' ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname)
  );
}

/**
 * A request URL as it may be logged: the path, and every query parameter's value replaced by `REDACTED` except
 * api-version's (values may be credentials: access_token, code, sig, key, ...); a parameter without a value too.
 */
export function redactQuery(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      if (eq < 0) return pair && 'REDACTED';
      const name = pair.slice(0, eq);
      return safeDecode(name).toLowerCase() === 'api-version' ? pair : `${name}=REDACTED`;
    });
  return `${url.slice(0, q)}?${params.join('&')}`;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

/** An Origin naming the host (and port, default ports included) the request was sent to. */
function sameHost(origin: string, host: string): boolean {
  try {
    const o = new URL(origin);
    return o.host === new URL(`${o.protocol}//${host}`).host;
  } catch {
    return false; // 'null' (an opaque origin) or garbage: never this server
  }
}

const headerValue = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

/** Printable ASCII only, at most 100 characters: what of a client's header may go into a message. */
const printable = (s: string) => s.replace(/[^\x20-\x7e]/g, '?').slice(0, 100);
