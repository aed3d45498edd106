// A tiny router. Routes are data; a path is matched exactly as sent, or, for a route whose path ends
// in a `{name}` segment, as that prefix and one more segment (which may hold percent-escapes, %2F
// included, but never a raw `/`), handed to the handler undecoded. An exact path wins over a pattern.
// A known path with another method is a 405 that names the allowed methods, an unknown path is a
// 404. HEAD is served by a path's GET route.
import type { Route } from './route.ts';

export type RouteMatch =
  | { kind: 'found'; route: Route; params: Readonly<Record<string, string>> }
  | { kind: 'method_not_allowed'; allow: string[]; path: string }
  | { kind: 'not_found' };

export type Router = (method: string, path: string) => RouteMatch;

const PARAMETER = /^(.*\/)\{([a-z_]+)\}$/;

type Pattern = { prefix: string; name: string; path: string; methods: Map<string, Route> };

export function createRouter(routes: readonly Route[]): Router {
  const byPath = new Map<string, Map<string, Route>>();
  const patterns = new Map<string, Pattern>();
  for (const route of routes) {
    const parameter = PARAMETER.exec(route.path);
    let methods: Map<string, Route>;
    if (parameter === null) {
      methods = byPath.get(route.path) ?? new Map<string, Route>();
      byPath.set(route.path, methods);
    } else {
      const pattern = patterns.get(route.path) ?? { prefix: parameter[1] as string, name: parameter[2] as string, path: route.path, methods: new Map() };
      patterns.set(route.path, pattern);
      methods = pattern.methods;
    }
    if (methods.has(route.method)) throw new Error(`duplicate route ${route.method} ${route.path}`);
    methods.set(route.method, route);
  }

  const pick = (methods: Map<string, Route>, method: string) => methods.get(method) ?? (method === 'HEAD' ? methods.get('GET') : undefined);

  const NO_PARAMS: Readonly<Record<string, string>> = Object.freeze({});

  return (method, path) => {
    // The common case first, allocating nothing: an exact path with a route for this method.
    const exact = byPath.get(path);
    const direct = exact === undefined ? undefined : pick(exact, method);
    if (direct !== undefined) return { kind: 'found', route: direct, params: NO_PARAMS };
    // Every route this path names, the exact one first: `/messages/stream` is both an exact path
    // (GET) and a `/messages/{message_id}` (DELETE), and each method goes to its own.
    const candidates: { methods: Map<string, Route>; path: string; params: Record<string, string> }[] = [];
    if (exact !== undefined) candidates.push({ methods: exact, path, params: {} });
    for (const pattern of patterns.values()) {
      const segment = path.startsWith(pattern.prefix) ? path.slice(pattern.prefix.length) : '';
      if (segment !== '' && !segment.includes('/')) candidates.push({ methods: pattern.methods, path: pattern.path, params: { [pattern.name]: segment } });
    }
    for (const candidate of candidates) {
      const route = pick(candidate.methods, method);
      if (route !== undefined) return { kind: 'found', route, params: candidate.params };
    }
    const first = candidates[0];
    if (first === undefined) return { kind: 'not_found' };
    const allow = [...new Set(candidates.flatMap((candidate) => [...candidate.methods.keys()]))];
    if (allow.includes('GET')) allow.push('HEAD');
    return { kind: 'method_not_allowed', allow, path: first.path };
  };
}
