import { parseQperf, transactionsPerSecond } from './qperf.js';

test('qperf reports are read in µs and bytes per second, whatever units qperf picked', () => {
  const report = ['tcp_lat:', '    latency  =  18.1 us', 'udp_lat:', '    latency  =  1.2 ms', 'tcp_bw:', '    bw  =  2.5 GB/sec', 'udp_bw:', '    send_bw  =  193 MB/sec', '    recv_bw  =  151 KB/sec', ''].join('\n');
  expect(parseQperf(report)).toEqual({ tcpLatUs: 18.1, udpLatUs: 1200, tcpBw: 2.5e9, udpSendBw: 193e6, udpRecvBw: 151e3 });
});

test('a report missing a test, or with a unit qperf never prints, is an error', () => {
  expect(() => parseQperf('tcp_lat:\n    latency  =  18.1 us\n')).toThrow(/lacks udp_lat.latency/);
  expect(() => parseQperf('tcp_lat:\n    latency  =  18.1 fortnights\n')).toThrow(/unknown unit/);
});

test('a request/response rate is one over the round trip', () => {
  expect(transactionsPerSecond(25)).toBe(20_000);
});
