// Signs a message with WEBHOOK_SECRET and POSTs it to a running service, printing status and body.
//   WEBHOOK_SECRET=... node scripts/send.ts --url http://127.0.0.1:8000 --id m1 --from +919876543210 --text hi
import { parseArgs } from 'node:util';
import { signBody } from '../src/ingest/schemes/x-signature.ts';

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: 'http://127.0.0.1:8000' },
    id: { type: 'string', default: `m-${Date.now()}` },
    from: { type: 'string', default: '+919876543210' },
    to: { type: 'string', default: '+14155550100' },
    ts: { type: 'string', default: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z') },
    text: { type: 'string' },
  },
});

const secret = process.env.WEBHOOK_SECRET;
if (!secret) {
  process.stderr.write('WEBHOOK_SECRET must be set to the service\'s secret\n');
  process.exit(2);
}

const body = JSON.stringify({ message_id: values.id, from: values.from, to: values.to, ts: values.ts, text: values.text ?? null });
const response = await fetch(new URL('/webhook', values.url), {
  method: 'POST',
  headers: { 'Content-Type': 'application/json', 'X-Signature': signBody(secret, body) },
  body,
}).catch((error: Error) => {
  process.stderr.write(`cannot reach ${values.url}: ${error.cause instanceof Error ? error.cause.message : error.message}\n`);
  process.exit(1);
});
process.stdout.write(`${response.status} ${await response.text()}\n`);
process.exitCode = response.ok ? 0 : 1;
