// A container healthcheck with no shell and no curl: `node src/healthcheck.ts` exits 0 only when
// the service on this host answers GET /health/ready with 200, and 1 otherwise (not ready, nothing
// listening, or no answer within the timeout). Like server.ts it is an entry point of its own, so
// it reads the same environment through the same parser and probes the port the service uses for
// probes: ADMIN_PORT when set, PORT otherwise.
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { loadConfig } from './config/config.ts';

// Below compose's healthcheck timeout, so the probe reports its own verdict instead of being killed.
const TIMEOUT_MS = 2_000;

const loaded = loadConfig(process.env, (path) => readFileSync(path, 'utf8'));
if (!loaded.ok) {
  process.stdout.write(`unhealthy: invalid configuration: ${loaded.error}\n`);
  process.exit(2);
}
// The internal listener when there is one: probes there never compete with public clients.
const { host, port } = loaded.value.admin ?? loaded.value;

const verdict = await probeReady(probeAddress(host), port);
process.stdout.write(`${verdict.ok ? 'healthy' : 'unhealthy'}: ${verdict.reason}\n`);
process.exitCode = verdict.ok ? 0 : 1;

/** A wildcard listen address is not somewhere to connect to: probe loopback instead. */
function probeAddress(listenHost: string): string {
  if (listenHost === '0.0.0.0') return '127.0.0.1';
  if (listenHost === '::') return '::1';
  return listenHost;
}

function probeReady(address: string, probePort: number): Promise<{ ok: boolean; reason: string }> {
  return new Promise((resolve) => {
    const req = request({ host: address, port: probePort, path: '/health/ready', method: 'GET', timeout: TIMEOUT_MS, agent: false }, (res) => {
      res.resume();
      resolve({ ok: res.statusCode === 200, reason: `GET /health/ready answered ${res.statusCode}` });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${TIMEOUT_MS} ms`)));
    req.on('error', (error: NodeJS.ErrnoException) => resolve({ ok: false, reason: error.code ?? error.message }));
    req.end();
  });
}
