// The Server-Sent Events wire format (HTML Living Standard, "Server-sent events"). Every value this
// service writes is one line: a position is base64url, and data is JSON, which escapes line breaks.

/** An event: its position as `id`, its JSON as `data`; `event` names a kind other than "message". */
export function sseEvent(position: string | null, data: string, event?: string): string {
  return `${event === undefined ? '' : `event: ${event}\n`}${position === null ? '' : `id: ${position}\n`}data: ${data}\n\n`;
}

/**
 * A position alone: no event is dispatched, but the client's last event id becomes it, so a
 * reconnect resumes after what the filter skipped (or, for a new subscriber, from where it started).
 */
export function ssePosition(position: string): string {
  return `id: ${position}\n\n`;
}

/** A comment: ignored by clients, but traffic for proxies and idle timeouts. */
export function sseComment(text: string): string {
  return `: ${text}\n\n`;
}
