// The agent's container map on a real filesystem: it survives a restart, a
// torn append, and compacts itself.
import { mkdtempSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ContainerMap } from '../../src/agent/container-map.js';

let dir: string;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'eni-containers-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

test('what one agent recorded, the next one finds, torn last line aside', () => {
  const file = join(dir, 'state', 'node-a.containers.json');
  const first = new ContainerMap(file);
  first.set('c1', 'pod-a');
  first.set('c2', 'pod-b');
  first.delete('c1');
  appendFileSync(file, '+ c3 pod-'); // killed mid-append
  const second = new ContainerMap(file);
  expect(second.get('c1')).toBeUndefined();
  expect(second.get('c2')).toBe('pod-b');
  expect(second.get('c3')).toBeUndefined();
  // It starts from a compact, well-formed file.
  expect(readFileSync(file, 'utf8')).toBe('+ c2 pod-b\n');
  second.set('c4', 'pod-c');
  expect([...new ContainerMap(file).pods()].sort()).toEqual(['pod-b', 'pod-c']);
});

test('a state file of the earlier JSON format is read and rewritten as a journal', () => {
  const file = join(dir, 'node-b.containers.json');
  writeFileSync(file, JSON.stringify({ c1: 'pod-a', 'restored:pod-b': 'pod-b' }));
  const map = new ContainerMap(file);
  expect(map.get('c1')).toBe('pod-a');
  expect(map.get('restored:pod-b')).toBe('pod-b');
  expect(readFileSync(file, 'utf8').split('\n').filter(Boolean).sort()).toEqual(['+ c1 pod-a', '+ restored:pod-b pod-b']);
});

test('churn keeps the journal bounded; prune rewrites it', () => {
  const file = join(dir, 'node-c.containers.json');
  const map = new ContainerMap(file);
  for (let i = 0; i < 1000; i++) {
    map.set(`c${i}`, `pod-${i}`);
    if (i >= 5) map.delete(`c${i - 5}`);
  }
  const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean).length;
  expect(lines).toBeLessThanOrEqual(2 * 5 + 100 + 2);
  expect([...new ContainerMap(file).pods()].sort()).toEqual(['pod-995', 'pod-996', 'pod-997', 'pod-998', 'pod-999']);
  map.prune((uid) => uid === 'pod-999');
  expect(readFileSync(file, 'utf8')).toBe('+ c999 pod-999\n');
  expect(() => map.set('has space', 'pod')).toThrow(/whitespace/);
});
