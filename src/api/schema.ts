// A small schema DSL that is the single source for both the CRDs' OpenAPI v3
// (structural) schemas and the TypeScript types of the custom resources.
// Each builder returns a Schema<T, Present>: T is the value's type, Present
// says whether the field is always there once the API server has defaulted
// the object (required, or carrying a default), which decides `key` vs `key?`.

/** One CEL rule (`x-kubernetes-validations` entry). */
export interface Validation {
  rule: string;
  message?: string;
  messageExpression?: string;
  fieldPath?: string;
  reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
}

/** The subset of apiextensions.k8s.io/v1 JSONSchemaProps this project uses. */
export interface JSONSchemaProps {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  description?: string;
  format?: string;
  enum?: readonly (string | number)[];
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  maxProperties?: number;
  default?: unknown;
  properties?: Record<string, JSONSchemaProps>;
  required?: string[];
  items?: JSONSchemaProps;
  additionalProperties?: JSONSchemaProps;
  'x-kubernetes-validations'?: Validation[];
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
}

export class Schema<T, Present extends boolean = false> {
  /** Phantom member carrying the value type; never set at run time. */
  declare readonly _type: T;
  declare readonly _present: Present;

  constructor(
    readonly openapi: JSONSchemaProps,
    readonly isRequired = false,
  ) {}

  /** The field must be given by whoever writes the object. */
  required(): Schema<T, true> {
    return new Schema<T, true>(this.openapi, true);
  }

  /** The API server fills the field in when it is omitted (nested defaults then apply to an object). */
  default(value: DefaultOf<T>): Schema<T, true> {
    // The API server checks a default against the rules as written, before nested
    // defaults apply, so an object default carries its fields' defaults itself.
    return new Schema<T, true>({ ...this.openapi, default: withNestedDefaults(this.openapi, value) }, this.isRequired);
  }

  describe(description: string): Schema<T, Present> {
    return this.with({ description });
  }

  /** Adds CEL rules evaluated by the API server at admission. */
  validate(...rules: Validation[]): Schema<T, Present> {
    const existing = this.openapi['x-kubernetes-validations'] ?? [];
    return this.with({ 'x-kubernetes-validations': [...existing, ...rules] });
  }

  with(extra: JSONSchemaProps): Schema<T, Present> {
    return new Schema<T, Present>({ ...this.openapi, ...extra }, this.isRequired);
  }
}

function withNestedDefaults(schema: JSONSchemaProps, value: unknown): unknown {
  if (schema.type !== 'object' || !schema.properties || typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  for (const [key, prop] of Object.entries(schema.properties)) {
    if (out[key] === undefined && prop.default !== undefined) out[key] = prop.default;
    if (out[key] !== undefined) out[key] = withNestedDefaults(prop, out[key]);
  }
  return out;
}

type DefaultOf<T> = T extends readonly unknown[] ? T : T extends object ? Partial<T> : T;

export type Infer<S> = S extends Schema<infer T, boolean> ? T : never;

type Shape = Record<string, Schema<unknown, boolean>>;
type PresentKeys<S extends Shape> = { [K in keyof S]: S[K] extends Schema<unknown, true> ? K : never }[keyof S];
type Simplify<T> = { [K in keyof T]: T[K] } & {};
export type ObjectOf<S extends Shape> = Simplify<
  { [K in PresentKeys<S>]: Infer<S[K]> } & { [K in Exclude<keyof S, PresentKeys<S>>]?: Infer<S[K]> }
>;

interface Common {
  description?: string;
}

export function string(opts: Common & Pick<JSONSchemaProps, 'format' | 'pattern' | 'minLength' | 'maxLength'> = {}): Schema<string> {
  return new Schema({ type: 'string', ...opts });
}

export function enumOf<const E extends readonly string[]>(values: E, opts: Common = {}): Schema<E[number]> {
  return new Schema({ type: 'string', enum: values, ...opts });
}

export function integer(opts: Common & Pick<JSONSchemaProps, 'minimum' | 'maximum'> & { format?: 'int32' | 'int64' } = {}): Schema<number> {
  return new Schema({ type: 'integer', format: 'int32', ...opts });
}

export function boolean(opts: Common = {}): Schema<boolean> {
  return new Schema({ type: 'boolean', ...opts });
}

export function object<S extends Shape>(shape: S, opts: Common & Pick<JSONSchemaProps, 'maxProperties'> = {}): Schema<ObjectOf<S>> {
  const properties: Record<string, JSONSchemaProps> = {};
  const required: string[] = [];
  for (const [key, field] of Object.entries(shape)) {
    properties[key] = field.openapi;
    if (field.isRequired) required.push(key);
  }
  const openapi: JSONSchemaProps = { type: 'object', ...opts, properties };
  if (required.length > 0) openapi.required = required;
  return new Schema(openapi);
}

interface ArrayOpts extends Common {
  minItems?: number;
  maxItems: number; // always bounded: CEL cost estimation needs it
  listType?: 'atomic' | 'set' | 'map';
  mapKeys?: string[];
}

export function array<T>(items: Schema<T, boolean>, opts: ArrayOpts): Schema<T[]> {
  const { listType, mapKeys, ...rest } = opts;
  const openapi: JSONSchemaProps = { type: 'array', ...rest, items: items.openapi };
  if (listType) openapi['x-kubernetes-list-type'] = listType;
  if (mapKeys) openapi['x-kubernetes-list-map-keys'] = mapKeys;
  return new Schema(openapi);
}

/** A string-keyed map (`additionalProperties`). */
export function map<T>(values: Schema<T, boolean>, opts: Common & { maxProperties: number }): Schema<Record<string, T>> {
  return new Schema({ type: 'object', ...opts, additionalProperties: values.openapi });
}

/** RFC 3339 timestamp, as metav1.Time serialises. */
export function timestamp(opts: Common = {}): Schema<string> {
  return new Schema({ type: 'string', format: 'date-time', ...opts });
}
