// The seam every payload format plugs into: verified body bytes become the messages they carry, each
// validated on its own, so one bad item in a batch can be told apart from the rest. A decoder never
// throws and never sees a body whose signature was not verified.
import type { InboundMessage } from '../model/message.ts';
import type { ValidationIssue } from '../model/validation.ts';

export type DecodedItem = { ok: true; message: InboundMessage } | { ok: false; issues: ValidationIssue[] };

export type DecodedPayload =
  /** `ignored` counts what the payload carried that is not a message (delivery receipts, ...), by kind. */
  | { ok: true; items: DecodedItem[]; ignored: Readonly<Record<string, number>> }
  /** The body as a whole is not this format (not JSON, not the expected shape). */
  | { ok: false; issues: ValidationIssue[] };

export type PayloadDecoder = (body: Uint8Array) => DecodedPayload;
