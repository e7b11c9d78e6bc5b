// Starts one control plane for the whole integration run; tests find it
// through ENI_TEST_CONTROL_PLANE (a JSON file with the ControlPlaneInfo).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControlPlane } from './control-plane.js';

declare global {
  var __eniControlPlane: ControlPlane | undefined;
}

export default async function setup(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'eni-it-'));
  const cp = await ControlPlane.start({ dir, id: `jest-${process.pid}`, removeDir: true });
  globalThis.__eniControlPlane = cp;
  process.env.ENI_TEST_CONTROL_PLANE = join(dir, 'control-plane.json');
  console.log(`\ncontrol plane: ${cp.info.apiserverURL}, /readyz after ${cp.info.startToReadyMs} ms`);
}
