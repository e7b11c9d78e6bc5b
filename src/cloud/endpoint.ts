// Endpoint overrides (the local emulator, or a private endpoint) as each SDK wants them.

export interface Endpoint {
  /** host[:port], no scheme. */
  host: string;
  /** Plain HTTP: only when the NetworkMode allows it. */
  insecure: boolean;
}

/** Parses "host:port", "https://host" or "http://host:port". Plain HTTP needs `allowInsecure`. */
export function parseEndpoint(text: string, allowInsecure: boolean): Endpoint {
  const m = /^(?:(https?):\/\/)?([A-Za-z0-9.-]+(?::\d{1,5})?)\/?$/.exec(text.trim());
  if (!m) throw new Error(`endpoint "${text}" is not host[:port] or http(s)://host[:port]`);
  const insecure = m[1] === 'http' || (m[1] === undefined && allowInsecure);
  if (insecure && !allowInsecure) throw new Error(`endpoint "${text}" is plain HTTP; set allowInsecureHTTP to use it`);
  return { host: m[2]!, insecure };
}
