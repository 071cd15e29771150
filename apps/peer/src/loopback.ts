const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost'])

/** Whether a host name or address is this machine's loopback. */
export function isLoopback (host: string): boolean {
  return LOOPBACK.has(host) || host.startsWith('127.')
}
