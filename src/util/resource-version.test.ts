import { compareResourceVersions, newerCopy } from './resource-version.js';

const obj = (rv: string | undefined, uid = 'u1') => ({ metadata: { uid, ...(rv === undefined ? {} : { resourceVersion: rv }) } });

describe('compareResourceVersions', () => {
  it.each([
    ['9', '10', -1],
    ['10', '9', 1],
    ['123', '123', 0],
    ['99999999999999999999', '100000000000000000000', -1],
  ] as const)('%s vs %s', (a, b, want) => {
    expect(compareResourceVersions(a, b)).toBe(want);
  });

  it.each([
    [undefined, '1'],
    ['abc', '1'],
    ['01', '1'],
    ['', '1'],
  ])('%p vs %p is incomparable', (a, b) => {
    expect(compareResourceVersions(a, b)).toBeUndefined();
  });
});

describe('newerCopy', () => {
  it('takes the only copy there is', () => {
    const a = obj('5');
    expect(newerCopy(a, undefined)).toBe(a);
    expect(newerCopy(undefined, a)).toBe(a);
    expect(newerCopy(undefined, undefined)).toBeUndefined();
  });

  it('takes the newer of two copies of one object', () => {
    const older = obj('41');
    const newer = obj('42');
    expect(newerCopy(older, newer)).toBe(newer);
    expect(newerCopy(newer, older)).toBe(newer);
  });

  it('refuses to choose between two objects that share a name', () => {
    expect(newerCopy(obj('41', 'old-node'), obj('42', 'new-node'))).toBeUndefined();
  });

  it('refuses to choose when a version is not a revision', () => {
    expect(newerCopy(obj('41'), obj('x'))).toBeUndefined();
  });
});
