import { array, boolean, enumOf, integer, object, string, type Infer } from './schema.js';

describe('schema DSL', () => {
  const inner = object({ a: integer().default(1), b: string().required(), c: boolean() });
  const outer = object({ inner: inner.default({ b: 'x' }), list: array(enumOf(['p', 'q'] as const), { maxItems: 3, listType: 'set' }) });

  test('required fields are listed; defaulted and optional ones are not', () => {
    expect(inner.openapi.required).toEqual(['b']);
    expect(outer.openapi.required).toBeUndefined();
  });

  test('an object default carries its nested defaults, as the API server validates it as written', () => {
    expect(outer.openapi.properties?.inner?.default).toEqual({ a: 1, b: 'x' });
  });

  test('arrays carry bounds and list type', () => {
    expect(outer.openapi.properties?.list).toEqual({
      type: 'array',
      maxItems: 3,
      items: { type: 'string', enum: ['p', 'q'] },
      'x-kubernetes-list-type': 'set',
    });
  });

  test('validate() appends CEL rules and keeps earlier ones', () => {
    const s = integer().validate({ rule: 'self > 0' }).validate({ rule: 'self < 9', message: 'small' });
    expect(s.openapi['x-kubernetes-validations']).toEqual([{ rule: 'self > 0' }, { rule: 'self < 9', message: 'small' }]);
  });

  test('types follow presence: defaulted and required keys are not optional', () => {
    type T = Infer<typeof outer>;
    const v: T = { inner: { a: 1, b: 'y' } };
    // @ts-expect-error inner.b is required
    const bad: T = { inner: { a: 1 } };
    expect(v.inner.a + (bad.inner.a ?? 0)).toBe(2);
  });
});
