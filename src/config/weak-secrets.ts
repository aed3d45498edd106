// Secrets that are too short to resist guessing, or that are the placeholders documentation and
// examples use. They are warned about at startup, never refused: existing deployments would break.
// A warning names the variable and the position in its list, never the value.

/** Fewer bytes than this can be guessed offline from one signed request (RFC 2104 asks for the hash length). */
const MIN_SECRET_BYTES = 16;

/** Compared case-insensitively, with separators removed: "change-me", "Change_Me" and "changeme" are one. */
const PLACEHOLDERS = new Set([
  'changeme', 'changethis', 'replaceme', 'secret', 'mysecret', 'yoursecret', 'yoursecrethere', 'webhooksecret', 'password',
  'token', 'mytoken', 'yourtoken', 'test', 'testsecret', 'example', 'default', 'xxx', 'xxxxxxxx', 'todo', 'fixme',
]);

export function weakSecretWarnings(secretsByVariable: Record<string, readonly string[]>): string[] {
  const warnings: string[] = [];
  for (const [variable, secrets] of Object.entries(secretsByVariable)) {
    for (const [index, secret] of secrets.entries()) {
      const where = secrets.length === 1 ? variable : `${variable} (value ${index + 1})`;
      if (PLACEHOLDERS.has(secret.toLowerCase().replace(/[\s_.-]/g, ''))) {
        warnings.push(`${where} is a well-known placeholder: generate a random one, e.g. openssl rand -hex 32`);
      } else if (Buffer.byteLength(secret) < MIN_SECRET_BYTES) {
        warnings.push(`${where} is shorter than ${MIN_SECRET_BYTES} bytes: generate a random one, e.g. openssl rand -hex 32`);
      }
    }
  }
  return warnings;
}
