// A small JSON Schema check for tests: enough of draft 2020-12 to hold the service's answers to its
// own /openapi.json (type, const, enum, properties, required, additionalProperties, items, minItems,
// maxItems, minLength, maxLength, pattern, minimum, maximum, $ref into components.schemas). It
// returns the paths where a value breaks its schema; an empty list means the value conforms.

export type Schema = { readonly [key: string]: unknown };

export function schemaErrors(value: unknown, schema: Schema, components: Record<string, Schema>, path = '$'): string[] {
  if (typeof schema.$ref === 'string') {
    const name = schema.$ref.replace('#/components/schemas/', '');
    const target = components[name];
    return target === undefined ? [`${path}: unknown $ref ${schema.$ref}`] : schemaErrors(value, target, components, path);
  }
  const errors: string[] = [];
  const fail = (why: string) => errors.push(`${path}: ${why}`);
  if ('const' in schema && value !== schema.const) fail(`is not ${JSON.stringify(schema.const)}`);
  if (Array.isArray(schema.enum) && !schema.enum.includes(value)) fail(`is not one of ${JSON.stringify(schema.enum)}`);
  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string];
    if (!types.some((type) => hasType(value, type))) return [`${path}: is not of type ${types.join(' or ')}`];
  }
  if (typeof value === 'string') {
    const length = [...value].length;
    if (typeof schema.minLength === 'number' && length < schema.minLength) fail(`is shorter than ${schema.minLength}`);
    if (typeof schema.maxLength === 'number' && length > schema.maxLength) fail(`is longer than ${schema.maxLength}`);
    if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern, 'u').test(value)) fail(`does not match ${schema.pattern}`);
  }
  if (typeof value === 'number') {
    if (typeof schema.minimum === 'number' && value < schema.minimum) fail(`is below ${schema.minimum}`);
    if (typeof schema.maximum === 'number' && value > schema.maximum) fail(`is above ${schema.maximum}`);
  }
  if (Array.isArray(value)) {
    if (typeof schema.minItems === 'number' && value.length < schema.minItems) fail(`has fewer than ${schema.minItems} items`);
    if (typeof schema.maxItems === 'number' && value.length > schema.maxItems) fail(`has more than ${schema.maxItems} items`);
    if (isSchema(schema.items)) value.forEach((item, index) => errors.push(...schemaErrors(item, schema.items as Schema, components, `${path}[${index}]`)));
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const object = value as Record<string, unknown>;
    const properties = isSchema(schema.properties) ? (schema.properties as Record<string, Schema>) : {};
    for (const name of Array.isArray(schema.required) ? (schema.required as string[]) : []) {
      if (!Object.hasOwn(object, name)) fail(`lacks ${name}`);
    }
    for (const [name, item] of Object.entries(object)) {
      const property = Object.hasOwn(properties, name) ? properties[name] : undefined;
      if (property !== undefined) errors.push(...schemaErrors(item, property, components, `${path}.${name}`));
      else if (schema.additionalProperties === false) fail(`has ${name}, which the schema does not allow`);
      else if (isSchema(schema.additionalProperties)) errors.push(...schemaErrors(item, schema.additionalProperties as Schema, components, `${path}.${name}`));
    }
  }
  return errors;
}

function hasType(value: unknown, type: string): boolean {
  if (type === 'null') return value === null;
  if (type === 'integer') return Number.isInteger(value);
  if (type === 'number') return typeof value === 'number';
  if (type === 'array') return Array.isArray(value);
  if (type === 'object') return typeof value === 'object' && value !== null && !Array.isArray(value);
  return typeof value === type;
}

function isSchema(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
