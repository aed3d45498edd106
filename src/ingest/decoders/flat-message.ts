// The flat payload of /webhook: one JSON object that is exactly one message.
import type { PayloadDecoder } from '../payload-decoder.ts';
import { parseJson, validateMessage } from '../validate.ts';

export const decodeFlatMessage: PayloadDecoder = (body) => {
  const parsed = parseJson(body);
  if (!parsed.ok) return parsed;
  const validated = validateMessage(parsed.value);
  const item = validated.ok ? { ok: true as const, message: validated.value } : { ok: false as const, issues: validated.issues };
  return { ok: true, items: [item], ignored: {} };
};
