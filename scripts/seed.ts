// Fills a database file with synthetic messages through the service's own writer, in batched
// transactions, for benchmarks and demos. Re-running with the same plan adds nothing (the ids are
// the same, so every message is a duplicate).
//   node scripts/seed.ts --db bench-data/demo.db --rows 1000000 --senders 100000
import { parseArgs } from 'node:util';
import { seedDatabase } from './synthetic-messages.ts';

const { values } = parseArgs({
  options: {
    db: { type: 'string', default: 'bench-data/seed.db' },
    rows: { type: 'string', default: '1000000' },
    senders: { type: 'string', default: '100000' },
    batch: { type: 'string', default: '10000' },
  },
});

const rows = Number(values.rows);
const senders = Number(values.senders);
const batch = Number(values.batch);
if (![rows, senders, batch].every((n) => Number.isSafeInteger(n) && n > 0)) {
  process.stderr.write('--rows, --senders and --batch must be positive integers\n');
  process.exit(2);
}

const result = seedDatabase(values.db, { rows, senders }, batch, (done) => {
  if (done % (batch * 10) === 0 || done === rows) process.stderr.write(`\r${done} / ${rows}`);
});
process.stderr.write('\n');
process.stdout.write(
  `${values.db}: ${result.created} created, ${result.duplicates} already there, ` +
    `${result.seconds.toFixed(1)} s (${Math.round(rows / result.seconds)} messages/s)\n`,
);
