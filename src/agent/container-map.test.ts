import { readContainerFile, type ContainerEntry } from './container-map.js';

/** container → pod, with `!` after the pod when its ADD succeeded. */
const flat = (map: Map<string, ContainerEntry>) => [...map].map(([c, e]) => [c, e.ready ? `${e.podUID}!` : e.podUID]);

describe('readContainerFile', () => {
  test('replays the journal: later lines win, deletions remove', () => {
    const map = readContainerFile('+ c1 pod-a\n+ c2 pod-b\n- c1\n+ c3 pod-c\n+ c2 pod-d\n');
    expect(flat(map)).toEqual([
      ['c2', 'pod-d'],
      ['c3', 'pod-c'],
    ]);
  });

  test('a success mark makes the container ready until its next ADD starts; marks of unknown containers are ignored', () => {
    expect(flat(readContainerFile('+ c1 pod-a\n= c1\n+ c2 pod-b\n= c2\n+ c2 pod-b\n= c9\n'))).toEqual([
      ['c1', 'pod-a!'],
      ['c2', 'pod-b'],
    ]);
  });

  test('a line torn by a crash (no newline yet) is skipped, even when it looks whole', () => {
    expect(flat(readContainerFile('+ c1 pod-a\n+ c2 pod-b'))).toEqual([['c1', 'pod-a']]);
    expect(flat(readContainerFile('+ c1 pod-a\n- c1'))).toEqual([['c1', 'pod-a']]);
    expect(flat(readContainerFile('+ c1 pod-a\n= c1'))).toEqual([['c1', 'pod-a']]);
  });

  test('malformed lines are ignored', () => {
    expect(flat(readContainerFile('+ c1\n? c2 p\n+ c3 p extra\n- c4 p\n\n+ c5 p5\n= c5 p5\n'))).toEqual([['c5', 'p5']]);
  });

  test('the JSON map of earlier versions is still read (nothing marked ready); a torn one is empty', () => {
    expect(flat(readContainerFile('{"c1":"pod-a","restored:u":"u","bad":3}'))).toEqual([
      ['c1', 'pod-a'],
      ['restored:u', 'u'],
    ]);
    expect(readContainerFile('{"c1":"po').size).toBe(0);
    expect(readContainerFile('').size).toBe(0);
  });
});
