import { ParamError, paramMap, Params } from './params.js';

const params = (o: Record<string, string>) => new Params(paramMap(Object.entries(o)));
const refusal = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    if (err instanceof ParamError) return { code: err.code, param: err.param };
    throw err;
  }
  throw new Error('expected a ParamError');
};

describe('Alibaba RPC parameters', () => {
  it('reads flattened lists in index order', () => {
    expect(params({ 'SecurityGroupIds.2': 'sg-b', 'SecurityGroupIds.1': 'sg-a' }).list('SecurityGroupIds', 10)).toEqual(['sg-a', 'sg-b']);
    expect(params({}).list('SecurityGroupIds', 10)).toEqual([]);
    expect(refusal(() => params({ 'PrivateIpAddress.11': '10.0.0.1' }).list('PrivateIpAddress', 10))).toEqual({ code: 'InvalidParameter', param: 'PrivateIpAddress.11' });
    expect(refusal(() => params({ 'Ids.x': 'a' }).list('Ids', 10))).toEqual({ code: 'InvalidParameter', param: 'Ids.x' });
    expect(refusal(() => params({ 'Ids.0': 'a' }).list('Ids', 10))).toEqual({ code: 'InvalidParameter', param: 'Ids.0' });
  });

  it('reads Tag.N.Key / Tag.N.Value, a missing value meaning any', () => {
    expect(params({ 'Tag.1.Key': 'owner', 'Tag.1.Value': 'pool', 'Tag.2.Key': 'node' }).tags('Tag', 20)).toEqual({ owner: 'pool', node: '' });
    expect(refusal(() => params({ 'Tag.1.Value': 'v' }).tags('Tag', 20))).toEqual({ code: 'MissingParameter', param: 'Tag.1.Key' });
    expect(refusal(() => params({ 'Tag.21.Key': 'k' }).tags('Tag', 20)).code).toBe('InvalidParameter');
  });

  it('checks integers, ranges, enumerations and required values', () => {
    const p = params({ Count: '10', Bad: '1e3', Neg: '-1', Status: 'InUse', Empty: '' });
    expect(p.int('Count', 1, 10)).toBe(10);
    expect(p.int('Absent', 1, 10)).toBeUndefined();
    expect(refusal(() => p.int('Bad', 1, 10))).toEqual({ code: 'InvalidParameter', param: 'Bad' });
    expect(refusal(() => p.int('Neg', 1, 10))).toEqual({ code: 'InvalidParameter', param: 'Neg' });
    expect(refusal(() => params({ Count: '11' }).int('Count', 1, 10)).code).toBe('InvalidParameter');
    expect(p.oneOf('Status', ['Available', 'InUse'])).toBe('InUse');
    expect(refusal(() => params({ Status: 'Busy' }).oneOf('Status', ['Available']))).toEqual({ code: 'InvalidParameter', param: 'Status' });
    expect(refusal(() => p.required('Empty'))).toEqual({ code: 'MissingParameter', param: 'Empty' });
  });

  it('reads JSON-array parameters such as DescribeInstances.InstanceIds', () => {
    expect(params({ InstanceIds: '["i-1","i-2"]' }).jsonList('InstanceIds', 100)).toEqual(['i-1', 'i-2']);
    expect(refusal(() => params({ InstanceIds: 'i-1' }).jsonList('InstanceIds', 100))).toEqual({ code: 'InvalidParameter', param: 'InstanceIds' });
    expect(refusal(() => params({ InstanceIds: '[1]' }).jsonList('InstanceIds', 100)).code).toBe('InvalidParameter');
  });

  it('limits ClientToken to 64 printable ASCII characters and refuses repeated names', () => {
    expect(params({ ClientToken: 'a'.repeat(64) }).clientToken()).toHaveLength(64);
    expect(refusal(() => params({ ClientToken: 'a'.repeat(65) }).clientToken())).toEqual({ code: 'InvalidParameter', param: 'ClientToken' });
    expect(refusal(() => paramMap([['A', '1'], ['A', '2']]))).toEqual({ code: 'InvalidParameter', param: 'A' });
  });
});
