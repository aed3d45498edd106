// A tiny exact-path router. Routes are data; a known path with another method is a 405 that names
// the allowed methods, an unknown path is a 404. HEAD is served by a path's GET route.
import type { Route } from './route.ts';

export type RouteMatch =
  | { kind: 'found'; route: Route }
  | { kind: 'method_not_allowed'; allow: string[]; path: string }
  | { kind: 'not_found' };

export type Router = (method: string, path: string) => RouteMatch;

export function createRouter(routes: readonly Route[]): Router {
  const byPath = new Map<string, Map<string, Route>>();
  for (const route of routes) {
    const methods = byPath.get(route.path) ?? new Map<string, Route>();
    if (methods.has(route.method)) throw new Error(`duplicate route ${route.method} ${route.path}`);
    methods.set(route.method, route);
    byPath.set(route.path, methods);
  }
  return (method, path) => {
    const methods = byPath.get(path);
    if (methods === undefined) return { kind: 'not_found' };
    const route = methods.get(method) ?? (method === 'HEAD' ? methods.get('GET') : undefined);
    if (route !== undefined) return { kind: 'found', route };
    const allow = [...methods.keys()];
    if (allow.includes('GET')) allow.push('HEAD');
    return { kind: 'method_not_allowed', allow, path };
  };
}
