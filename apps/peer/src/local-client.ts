// The command line's client of the local daemon's HTTP interface.
import { readFile } from 'node:fs/promises'
import type { Config } from './config-schema.js'
import { DaemonUnreachableError, PeerError } from './errors.js'
import { isLoopback } from './loopback.js'
import { httpTokenPath } from './secrets.js'

export interface LocalClient {
  url: string
  get: <T>(path: string) => Promise<T>
  post: <T>(path: string, body?: unknown) => Promise<T>
}

export function daemonUrl (config: Config): string {
  const host = config.http.host === '0.0.0.0' ? '127.0.0.1' : config.http.host === '::' ? '::1' : config.http.host
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.http.port}`
}

export function localClient (config: Config, url = daemonUrl(config)): LocalClient {
  let token: string | undefined
  const auth = async (): Promise<Record<string, string>> => {
    token ??= (await readFile(httpTokenPath(config.dataDir), 'utf8').catch(() => '')).trim()
    return token === '' ? {} : { authorization: `Bearer ${token}` }
  }
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    let res: Response
    try {
      const headers: Record<string, string> = { ...(method !== 'GET' || !isLoopback(config.http.host) ? await auth() : {}) }
      if (body !== undefined) headers['content-type'] = 'application/json'
      res = await fetch(`${url}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}), signal: AbortSignal.timeout(10_000) })
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name
      throw new DaemonUnreachableError(url, cause)
    }
    const data = await res.json().catch(() => ({})) as T & { error?: string }
    if (!res.ok) throw new PeerError('ERR_DAEMON_REFUSED', `the daemon at ${url} answered ${res.status}: ${data.error ?? res.statusText}`)
    return data
  }
  return {
    url,
    get: async (path) => await call('GET', path),
    post: async (path, body) => await call('POST', path, body)
  }
}
