// GET /webhooks/whatsapp: Meta's subscription handshake. When a callback URL is saved in the app
// dashboard, Meta calls it with hub.mode=subscribe, the verify token typed there, and a challenge to
// echo. Only an exact token (whatsapp-handshake.ts) gets the challenge back, as text/plain; anything
// else is a 403. The query string, token included, is never logged.
import { HttpError } from '../http/http-error.ts';
import type { Route } from '../http/route.ts';
import { verifySubscription } from './whatsapp-handshake.ts';

export function whatsappHandshakeRoute(path: string, verifyTokens: readonly string[]): Route {
  return {
    method: 'GET',
    path,
    handler: async ({ url }) => {
      const verdict = verifySubscription(url.searchParams, verifyTokens);
      if (!verdict.ok) throw new HttpError('forbidden');
      return { status: 200, text: verdict.challenge, contentType: 'text/plain; charset=utf-8' };
    },
  };
}
