// Schema checks with ajv (already in node_modules through ESLint): an
// independent implementation of JSON Schema, so the test does not grade our
// own result parser with itself.
import Ajv from 'ajv';

const ajv = new Ajv({ allErrors: true });

/** Problems found, as "path message" lines; empty when valid. */
export function schemaProblems(schema: object, data: unknown): string[] {
  const validate = ajv.compile(schema);
  if (validate(data)) return [];
  return (validate.errors ?? []).map((e) => `${e.dataPath || '/'} ${e.message ?? ''}`);
}
