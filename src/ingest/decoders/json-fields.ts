// Reading parsed JSON that a sender controls, for decoders that walk nested payloads: own
// properties only (an inherited `__proto__` or `constructor` is never a field), and FastAPI-style
// issues that say where a problem is and what was expected, never what was sent.
import type { ValidationIssue } from '../../model/validation.ts';

export type Loc = (string | number)[];
export type JsonObject = Record<string, unknown>;

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A field of a parsed object, or undefined when it is absent or only inherited. */
export function ownField(object: JsonObject, name: string): unknown {
  return Object.hasOwn(object, name) ? object[name] : undefined;
}

export function missing(loc: Loc): ValidationIssue {
  return { loc, msg: 'Field required', type: 'missing' };
}

export function notAnObject(loc: Loc): ValidationIssue {
  return { loc, msg: 'Input should be a valid dictionary or object', type: 'model_attributes_type' };
}

export function notAList(loc: Loc): ValidationIssue {
  return { loc, msg: 'Input should be a valid list', type: 'list_type' };
}

export function notAString(loc: Loc): ValidationIssue {
  return { loc, msg: 'Input should be a valid string', type: 'string_type' };
}

/** A lone surrogate escaped in JSON (\ud800) is not text: stored, it would become U+FFFD. */
export function notUnicode(loc: Loc): ValidationIssue {
  return { loc, msg: 'Input should be a valid string, unable to parse raw data as a unicode string', type: 'string_unicode' };
}

export function patternMismatch(loc: Loc, pattern: RegExp): ValidationIssue {
  return { loc, msg: `String should match pattern '${pattern.source}'`, type: 'string_pattern_mismatch' };
}

export function tooLong(loc: Loc, max: number): ValidationIssue {
  return { loc, msg: `String should have at most ${max} characters`, type: 'string_too_long' };
}
