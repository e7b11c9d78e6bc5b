import { completeResponse, parseResponse, type AgentCallError } from './agent-client.js';

const res = (s: string) => parseResponse(Buffer.from(s, 'utf8'));

test('responses with a length, with chunks, and until close', () => {
  expect(res('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}')).toEqual({ status: 200, body: '{}' });
  expect(res('HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n{"a\r\n4\r\n":1}\r\n0\r\n\r\n')).toEqual({ status: 503, body: '{"a":1}' });
  expect(res('HTTP/1.0 200 OK\r\n\r\nüñí')).toEqual({ status: 200, body: 'üñí' });
});

test('cut or garbled responses are classified', () => {
  const kind = (s: string) => {
    try {
      res(s);
    } catch (err) {
      return (err as AgentCallError).kind;
    }
    return 'parsed';
  };
  expect(kind('')).toBe('connection-lost');
  expect(kind('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{}')).toBe('connection-lost');
  expect(kind('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{}')).toBe('connection-lost');
  expect(kind('HTTP/1.1 200 OK\r\nContent')).toBe('malformed-response');
  expect(kind('SSH-2.0-OpenSSH\r\n\r\n')).toBe('malformed-response');
});

test('a response is complete once its Content-Length body is in, before the connection closes', () => {
  const part = (s: string) => completeResponse(Buffer.from(s, 'utf8'));
  expect(part('HTTP/1.1 200 OK\r\nContent-Length: 4\r\n')).toBeUndefined();
  expect(part('HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n{"a')).toBeUndefined();
  expect(part('HTTP/1.1 200 OK\r\nDate: x\r\ncontent-length: 4\r\nConnection: close\r\n\r\n{"a"')).toEqual({ status: 200, body: '{"a"' });
  expect(part('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n')).toEqual({ status: 200, body: '' });
  expect(part('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n')).toBeUndefined(); // read until close
});
