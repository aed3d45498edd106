// Runs one delete request (writer-messages.ts) on the eraser, as the writer thread and the inline
// writer of `:memory:` both do: a failure becomes its SQLite code, never its message.
import type { SqliteEraser } from './message-eraser.ts';
import { sqliteErrorCode } from './sqlite-error.ts';
import type { EraseOutcome, EraseRequest } from './writer-messages.ts';

export function eraseRunner(eraser: SqliteEraser): (request: EraseRequest) => EraseOutcome {
  const run = (request: EraseRequest): number => {
    switch (request.kind) {
      case 'erase_message':
        return eraser.eraseMessage(request.messageId, request.erasedAt);
      case 'erase_sender':
        return eraser.eraseSender(request.from, request.erasedAt, request.limit);
      case 'purge_received':
        return eraser.purgeReceivedBefore(request.cutoff, request.erasedAt, request.limit);
      case 'purge_tombstones':
        return eraser.purgeTombstonesBefore(request.cutoff, request.limit);
    }
  };
  return (request) => {
    const started = performance.now();
    try {
      return { ok: true, count: run(request), ms: performance.now() - started };
    } catch (error) {
      return { ok: false, code: sqliteErrorCode(error) };
    }
  };
}
