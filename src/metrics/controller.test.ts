import { Registry } from 'prom-client';
import { ControllerMetrics } from './controller.js';

test('per-node pool gauges are set after a reconcile and removed with the node', async () => {
  const registry = new Registry();
  const m = new ControllerMetrics(registry);
  m.setPool('n1', { free: 4, assigned: 7, cooldown: 1, enis: { shared: 2, exclusive: 1 }, waiting: 3 });
  const text = await registry.metrics();
  expect(text).toContain('eni_operator_pool_ips{node="n1",state="free"} 4');
  expect(text).toContain('eni_operator_pool_ips{node="n1",state="assigned"} 7');
  expect(text).toContain('eni_operator_pool_ips{node="n1",state="cooldown"} 1');
  expect(text).toContain('eni_operator_pool_enis{node="n1",role="exclusive"} 1');
  expect(text).toContain('eni_operator_pods_waiting{node="n1"} 3');
  m.forgetNode('n1');
  expect(await registry.metrics()).not.toContain('node="n1"');
});
