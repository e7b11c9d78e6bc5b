// The pod annotation that asks for an exclusive ENI. Pure.

export const ENI_MODE_ANNOTATION = 'network.eni-operator.io/eni-mode';

export type PodMode = { kind: 'shared' } | { kind: 'exclusive' } | { kind: 'invalid'; value: string; message: string };

export function podMode(annotations: Record<string, string> | undefined): PodMode {
  const value = annotations?.[ENI_MODE_ANNOTATION];
  if (value === undefined || value === 'shared') return { kind: 'shared' };
  if (value === 'exclusive') return { kind: 'exclusive' };
  return { kind: 'invalid', value, message: `annotation ${ENI_MODE_ANNOTATION}="${value}" is not valid: use "exclusive" (a whole ENI) or "shared" (the default)` };
}
