// The shape of every validation result in the service: validators return results, they never throw.
// Issues follow FastAPI's shape ({ loc, msg, type }) because existing clients of this API parse them.

export type ValidationIssue = { loc: (string | number)[]; msg: string; type: string };
export type Validation<T> = { ok: true; value: T } | { ok: false; issues: ValidationIssue[] };
