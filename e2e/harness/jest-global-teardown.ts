export default async function teardown(): Promise<void> {
  await globalThis.__eniControlPlane?.stop();
  globalThis.__eniControlPlane = undefined;
}
