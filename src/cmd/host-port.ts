// The HOST:PORT form of the --listen flags. Pure.

export function parseHostPort(text: string, flag = '--listen'): { host: string; port: number } {
  const m = /^(.+):(\d{1,5})$/.exec(text);
  if (!m || Number(m[2]) > 65535) throw new Error(`${flag} wants HOST:PORT, got "${text}"`);
  return { host: m[1]!, port: Number(m[2]) };
}
