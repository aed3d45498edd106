// Reading the request target: the path that routing uses, exactly as sent, and the query string.

const ORIGIN = 'http://service.invalid';

/**
 * Only the path and query of the request target matter, and the Host header is client input that
 * plays no part in routing. The target is read as a path: of an absolute URL (`http://host/path`,
 * which RFC 9112 3.2.2 says a server must accept), its path; anything else (`*`, `//x`) becomes a
 * path no route has. The path is taken exactly as sent: a URL parser would resolve `/x/../`,
 * `%2e%2e` and `\`, so `/x/%2e%2e/metrics` would reach /metrics past a proxy rule that blocks
 * `/metrics` by its raw path. Only the query is parsed, with a fixed origin, so nothing can throw
 * or choose another host.
 */
const ABSOLUTE_FORM = /^https?:\/\/[^/?#]*(.*)$/i;

export function requestTarget(target = '/'): { path: string; url: URL } {
  const afterAuthority = ABSOLUTE_FORM.exec(target)?.[1];
  const relative = afterAuthority ?? target;
  const asPath = relative.startsWith('/') ? relative : `/${relative}`;
  const end = asPath.search(/[?#]/);
  return { path: end === -1 ? asPath : asPath.slice(0, end), url: new URL(`${ORIGIN}${asPath}`) };
}
