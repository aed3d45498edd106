// DATABASE_URL → connection settings. Pure: no I/O, no environment; the caller reads the variable,
// may pass the password from elsewhere (a _FILE twin), and reads the CA file at connect time.
//
// postgres://user:password@host:port/database?sslmode=verify-full&sslrootcert=/path/ca.pem
// (or postgresql://). User, password, database and parameter values are percent-decoded ('+' stays
// '+', as libpq reads it). The port defaults to 5432, the database to the user name (as libpq).
// IPv6 hosts are written in brackets: postgres://u@[::1]/db. Accepted parameters: sslmode,
// sslrootcert, application_name, connect_timeout (seconds) and options (startup options, such as
// "-c statement_timeout=5s"); anything else is refused rather than silently ignored.
//
// sslmode: disable, require (encrypted, certificate not checked) or verify-full (chain and host
// name checked). Unset, it is verify-full. libpq's default, prefer, falls back to cleartext without
// a word; we have no such mode, and a service handling signed webhooks should not lose TLS by
// omission. So a URL without sslmode is as safe as it gets, and a cleartext or unverified
// connection is something someone wrote down (local development sets sslmode=disable). libpq reads
// sslrootcert with require as verify-ca, which we do not have: that pair is refused instead of
// quietly not verifying. sslrootcert=system (as libpq) means Node's default CA list.
//
// Errors name what is wrong and never include the password (nor the whole URL, which holds it).
import { isIPv6 } from 'node:net';
import type { TlsOptions } from './transport.ts';

export type DatabaseUrl = {
  host: string;
  port: number;
  user: string;
  password: string | null;
  database: string;
  tls: TlsOptions;
  applicationName: string | null;
  connectTimeoutMs: number | null;
  /** Extra startup parameters (`options`). */
  parameters: Record<string, string>;
};

export type DatabaseUrlResult = { ok: true; value: DatabaseUrl } | { ok: false; error: string };

const SSL_MODES = ['disable', 'require', 'verify-full'] as const;
const KNOWN_PARAMETERS = new Set(['sslmode', 'sslrootcert', 'application_name', 'connect_timeout', 'options']);

export function parseDatabaseUrl(text: string, overrides: { password?: string } = {}): DatabaseUrlResult {
  if (!/^postgres(?:ql)?:\/\//i.test(text)) return fail('must start with postgres:// or postgresql://');
  const url = URL.parse(text);
  if (url === null) return fail('is not a valid URL');
  if (url.hash !== '') return fail('must not have a #fragment');

  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  if (host === '') return fail('a host is required (Unix sockets are not supported)');
  if (url.hostname.startsWith('[') ? !isIPv6(host) : !/^[A-Za-z0-9._-]+$/.test(host)) {
    return fail('the host must be one name, IPv4 address or bracketed IPv6 address');
  }
  const port = url.port === '' ? 5432 : Number(url.port);
  if (!(port >= 1 && port <= 65535)) return fail('the port must be from 1 to 65535');

  const user = decode(url.username);
  if (user === null) return fail('the user is not valid percent-encoding');
  if (user === '') return fail('a user is required');
  const urlPassword = decode(url.password);
  if (urlPassword === null) return fail('the password is not valid percent-encoding');
  const password = overrides.password ?? (urlPassword === '' ? null : urlPassword);

  const path = url.pathname === '' || url.pathname === '/' ? null : decode(url.pathname.slice(1));
  if (url.pathname.length > 1 && path === null) return fail('the database name is not valid percent-encoding');
  if (path !== null && url.pathname.slice(1).includes('/')) return fail('the database name must be one path segment');
  const database = path ?? user;

  const query = readQuery(url.search);
  if (!query.ok) return query;
  const params = query.value;

  const sslmode = params.get('sslmode') ?? 'verify-full';
  const mode = SSL_MODES.find((known) => known === sslmode);
  if (mode === undefined) return fail(`sslmode must be one of ${SSL_MODES.join(', ')}`);
  const rootCert = params.get('sslrootcert') ?? null;
  if (rootCert !== null && mode !== 'verify-full') return fail('sslrootcert is only used with sslmode=verify-full');
  const tls: TlsOptions = mode === 'verify-full' ? { mode, caFile: rootCert === 'system' ? null : rootCert } : { mode };

  const timeoutText = params.get('connect_timeout');
  const timeoutSeconds = timeoutText === undefined ? null : /^\d{1,4}$/.test(timeoutText) ? Number(timeoutText) : 0;
  if (timeoutSeconds !== null && !(timeoutSeconds >= 1 && timeoutSeconds <= 3600)) {
    return fail('connect_timeout must be a whole number of seconds from 1 to 3600');
  }

  const options = params.get('options');
  return {
    ok: true,
    value: {
      host,
      port,
      user,
      password,
      database,
      tls,
      applicationName: params.get('application_name') ?? null,
      connectTimeoutMs: timeoutSeconds === null ? null : timeoutSeconds * 1000,
      parameters: options === undefined ? {} : { options },
    },
  };
}

/** "?a=1&b=2" → Map, percent-decoded; unknown or repeated names are errors. */
function readQuery(search: string): { ok: true; value: Map<string, string> } | { ok: false; error: string } {
  const params = new Map<string, string>();
  if (search === '' || search === '?') return { ok: true, value: params };
  for (const pair of search.slice(1).split('&')) {
    const equals = pair.indexOf('=');
    const name = decode(equals === -1 ? pair : pair.slice(0, equals));
    const value = decode(equals === -1 ? '' : pair.slice(equals + 1));
    if (name === null || value === null) return fail('a query parameter is not valid percent-encoding');
    // A name is echoed only when it looks like one, so no stray secret lands in an error.
    const shown = /^[a-z_]{1,40}$/.test(name) ? `"${name}"` : 'a query parameter';
    if (!KNOWN_PARAMETERS.has(name)) return fail(`unsupported parameter ${shown}; accepted: ${[...KNOWN_PARAMETERS].join(', ')}`);
    if (params.has(name)) return fail(`parameter ${shown} is given twice`);
    params.set(name, value);
  }
  return { ok: true, value: params };
}

function decode(text: string): string | null {
  try {
    return decodeURIComponent(text);
  } catch {
    return null;
  }
}

function fail(error: string): { ok: false; error: string } {
  return { ok: false, error };
}
