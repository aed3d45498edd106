// GET /webhooks/whatsapp: Meta's subscription handshake. When a callback URL is saved in the app
// dashboard, Meta calls it with hub.mode=subscribe, the verify token typed there, and a challenge to
// echo. Only an exact token (whatsapp-handshake.ts) gets the challenge back, as text/plain; anything
// else is a 403. The query string, token included, is never logged.
import { HttpError } from '../http/http-error.ts';
import type { Route } from '../http/route.ts';
import { ref } from '../model/schemas.ts';
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
    doc: {
      summary: "Meta's subscription handshake for the callback URL",
      tag: 'ingest',
      parameters: ['hub.mode', 'hub.verify_token', 'hub.challenge'].map((name) => ({ name, in: 'query' as const, required: true, description: `Sent by Meta.`, schema: { type: 'string' } })),
      responses: {
        200: { description: 'hub.challenge, echoed.', schema: { type: 'string', pattern: '^[0-9]{1,64}$' }, contentType: 'text/plain' },
        403: { description: 'Not a subscription, or not the verify token.', schema: ref('Error') },
      },
    },
  };
}
