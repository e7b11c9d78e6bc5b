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
  expect(first.found).toBe(false);
  first.set('c1', 'pod-a');
  first.set('c2', 'pod-b');
  first.markReady('c2');
  first.set('c5', 'pod-d'); // an ADD cut short: wired, not ready
  first.delete('c1');
  appendFileSync(file, '+ c3 pod-'); // killed mid-append
  const second = new ContainerMap(file);
  expect(second.found).toBe(true);
  expect(second.get('c1')).toBeUndefined();
  expect(second.get('c2')).toBe('pod-b');
  expect(second.get('c3')).toBeUndefined();
  expect([...second.pods()].sort()).toEqual(['pod-b', 'pod-d']);
  expect([...second.readyPods()]).toEqual(['pod-b']);
  // It starts from a compact, well-formed file.
  expect(readFileSync(file, 'utf8')).toBe('+ c2 pod-b\n= c2\n+ c5 pod-d\n');
  second.set('c4', 'pod-c');
  second.markReady('c4');
  second.set('c2', 'pod-b'); // a repeat ADD starts: not ready until it succeeds
  const third = new ContainerMap(file);
  expect([...third.pods()].sort()).toEqual(['pod-b', 'pod-c', 'pod-d']);
  expect([...third.readyPods()]).toEqual(['pod-c']);
  // Every container gone: the empty file is still found (the map is a record, not lost).
  for (const c of ['c2', 'c4', 'c5']) third.delete(c);
  const fourth = new ContainerMap(file);
  expect(fourth.found).toBe(true);
  expect(fourth.pods().size).toBe(0);
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
    map.markReady(`c${i}`);
    if (i >= 5) map.delete(`c${i - 5}`);
  }
  const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean).length;
  expect(lines).toBeLessThanOrEqual(4 * 5 + 100 + 3);
  const reread = new ContainerMap(file);
  expect([...reread.pods()].sort()).toEqual(['pod-995', 'pod-996', 'pod-997', 'pod-998', 'pod-999']);
  expect([...reread.readyPods()].sort()).toEqual(['pod-995', 'pod-996', 'pod-997', 'pod-998', 'pod-999']);
  map.prune((uid) => uid === 'pod-999');
  expect(readFileSync(file, 'utf8')).toBe('+ c999 pod-999\n= c999\n');
  expect(() => map.set('has space', 'pod')).toThrow(/whitespace/);
});
