import { histogramDelta, parseHistogram } from './agent-kit.js';

// As prom-client writes it: `le` last, `+Inf` spelled so, and no braces on an unlabelled histogram's _sum and _count.
const CNI = 'eni_operator_cni_request_duration_seconds';
const text = (addCounts: [number, number, number], addSum: number) =>
  [
    `# TYPE ${CNI} histogram`,
    `${CNI}_bucket{command="ADD",result="ok",le="0.01"} ${addCounts[0]}`,
    `${CNI}_bucket{command="ADD",result="ok",le="0.05"} ${addCounts[1]}`,
    `${CNI}_bucket{command="ADD",result="ok",le="+Inf"} ${addCounts[2]}`,
    `${CNI}_sum{command="ADD",result="ok"} ${addSum}`,
    `${CNI}_count{command="ADD",result="ok"} ${addCounts[2]}`,
    `${CNI}_bucket{command="ADD",result="error",le="+Inf"} 9`,
    `${CNI}_count{command="ADD",result="error"} 9`,
    `${CNI}_bucket{command="DEL",result="ok",le="+Inf"} 7`,
    `${CNI}_count{command="DEL",result="ok"} 7`,
    'eni_operator_agent_plan_wait_seconds_bucket{found="true",le="0.01"} 2',
    'eni_operator_agent_plan_wait_seconds_bucket{found="true",le="+Inf"} 2',
    'eni_operator_agent_plan_wait_seconds_bucket{found="false",le="0.01"} 0',
    'eni_operator_agent_plan_wait_seconds_bucket{found="false",le="+Inf"} 1',
    'eni_operator_agent_plan_wait_seconds_count{found="true"} 2',
    'eni_operator_agent_plan_wait_seconds_count{found="false"} 1',
    'eni_operator_allocation_latency_seconds_bucket{le="0.1"} 5',
    'eni_operator_allocation_latency_seconds_bucket{le="+Inf"} 5',
    'eni_operator_allocation_latency_seconds_sum 0.3',
    'eni_operator_allocation_latency_seconds_count 5',
  ].join('\n');

test('parseHistogram keeps the series whose labels match, sums the rest, and reads +Inf and unlabelled histograms', () => {
  expect(parseHistogram(text([1, 3, 4], 0.2), CNI, { command: 'ADD', result: 'ok' })).toEqual({ buckets: [[0.01, 1], [0.05, 3], [Infinity, 4]], sum: 0.2, count: 4 });
  expect(parseHistogram(text([1, 3, 4], 0.2), 'eni_operator_agent_plan_wait_seconds', {})).toEqual({ buckets: [[0.01, 2], [Infinity, 3]], sum: 0, count: 3 });
  expect(parseHistogram(text([1, 3, 4], 0.2), 'eni_operator_allocation_latency_seconds', {})).toEqual({ buckets: [[0.1, 5], [Infinity, 5]], sum: 0.3, count: 5 });
  expect(parseHistogram('', CNI, {})).toEqual({ buckets: [], sum: 0, count: 0 });
});

test('histogramDelta: count, mean and the bucket bounds of p50 and p99 between two scrapes', () => {
  const before = parseHistogram(text([1, 3, 4], 0.2), CNI, { command: 'ADD', result: 'ok' });
  // 10 more ADDs: 5 within 10 ms, 4 within 50 ms, 1 slower; 0.4 s more in total.
  const after = parseHistogram(text([6, 12, 14], 0.6), CNI, { command: 'ADD', result: 'ok' });
  expect(histogramDelta(before, after)).toEqual({ count: 10, meanMs: 40, p50AtMostMs: 10, p99AtMostMs: '+Inf', bucketsMs: { '<=10': 5, '<=50': 9, '<=+Inf': 10 } });
  expect(histogramDelta(before, before)).toMatchObject({ count: 0, meanMs: null, p50AtMostMs: null, p99AtMostMs: null });
});
