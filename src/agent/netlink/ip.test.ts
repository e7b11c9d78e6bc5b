// How `ip -batch` failures are attributed to lines.
import { isGone, parseBatchFailures } from './ip.js';

const lines = ['link add a type veth peer name b', 'rule del priority 2100 from 10.0.0.5/32 lookup 10003', 'link set dev x up'];

test('each "Command failed -:N" takes the messages printed before it', () => {
  const stderr = 'RTNETLINK answers: File exists\nCommand failed -:1\nRTNETLINK answers: No such file or directory\nCommand failed -:2\nCannot find device "x"\nCommand failed -:3\n';
  const failures = parseBatchFailures(stderr, lines);
  expect(failures).toEqual([
    { line: 1, command: lines[0], message: 'RTNETLINK answers: File exists' },
    { line: 2, command: lines[1], message: 'RTNETLINK answers: No such file or directory' },
    { line: 3, command: lines[2], message: 'Cannot find device "x"' },
  ]);
  expect(failures.map(isGone)).toEqual([false, true, true]);
});

test('stderr without line markers yields no failures (the caller reports it whole)', () => {
  expect(parseBatchFailures('Object "foo" is unknown, try "ip help".\n', lines)).toEqual([]);
});
