// The floor for scripts/bench.ts: a bare node:http server that reads the request body and answers
// 200 with a small JSON body, nothing else. No service on this machine can beat it, so the bench
// reports the service's figures as ratios to it. Listens on HOST:PORT, like the service.
import { createServer } from 'node:http';

const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  req.on('data', () => {});
  req.on('end', () => {
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': 15 });
    res.end('{"status":"ok"}');
  });
});
server.maxRequestsPerSocket = 10_000;
server.listen(Number(process.env.PORT), process.env.HOST ?? '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
