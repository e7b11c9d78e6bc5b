// The ipvlan datapath on a kernel that has ipvlan: this machine's kernel does
// not, so the check runs inside a QEMU guest on Debian's stock kernel
// (e2e/guest). The same checks the other datapaths get here, with real TCP
// and UDP: pod ↔ VPC peer, pod ↔ node, pod ↔ pod on one ENI and across ENIs,
// ADD twice, CHECK, DEL, repair leaving nothing behind.
import { release } from 'node:os';
import { runInGuest } from '../guest/guest.js';

test('the ipvlan datapath passes every check in a guest with ipvlan', async () => {
  const r = await runInGuest({ script: 'node dist/e2e/datapath/ipvlan-check.js', timeoutMs: 240_000 });
  const lines = r.output.split('\n').filter((l) => /^(not )?ok - /.test(l));
  const failed = lines.filter((l) => l.startsWith('not ok'));
  expect({ exitCode: r.exitCode, failed }).toEqual({ exitCode: 0, failed: [] });
  // The script ran its checks (not an early exit) on the guest's own kernel.
  expect(lines.length).toBeGreaterThanOrEqual(20);
  expect(r.kernel).not.toBe(release());
}, 300_000);
