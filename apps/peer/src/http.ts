// The daemon's local HTTP interface: status, peers, tasks, log, a stream of events (SSE),
// Prometheus metrics and the dashboard. Bound to 127.0.0.1 by default. A request whose `Host`
// is not the daemon's own is refused (DNS rebinding); anything that changes state needs the
// token from the data directory; bound to another address, every request needs it.
import { timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { DASHBOARD_HTML } from './dashboard.js'
import { NODE_EVENT_NAMES, type NodeEvents } from './events.js'
import { PortInUseError } from './errors.js'
import { isLoopback } from './loopback.js'
import { createMetrics } from './metrics.js'
import type { BzzzNode } from './node.js'
import { peerSummary, taskSummary } from './views.js'

export interface HttpInit {
  node: BzzzNode
  host?: string
  port?: number
  /** The token for state changes (and every request when not on loopback). */
  token: string
  /** Called by `POST /api/drain`. Default `node.drain()`. */
  onDrain?: () => void
  /** Called by `POST /api/tasks` (task submit): opens an issue, resolves to its URL. */
  onSubmit?: (input: { repo: string, title: string, body: string }) => Promise<string>
}

export interface HttpServer {
  url: string
  host: string
  port: number
  close: () => Promise<void>
}

export { isLoopback }

/** The `Host` header values this server answers to. */
export function allowedHosts (host: string, port: number): Set<string> {
  const out = new Set<string>()
  const names = isLoopback(host) ? ['127.0.0.1', 'localhost', '[::1]'] : [host.includes(':') ? `[${host}]` : host]
  for (const n of names) out.add(`${n}:${port}`)
  if (port === 80) for (const n of names) out.add(n)
  return out
}

function sameToken (given: string | undefined, token: string): boolean {
  if (given === undefined) return false
  const a = Buffer.from(given)
  const b = Buffer.from(token)
  return a.length === b.length && timingSafeEqual(a, b)
}

function bearer (req: IncomingMessage, url: URL): string | undefined {
  const h = req.headers.authorization
  if (h?.startsWith('Bearer ') === true) return h.slice(7).trim()
  return url.searchParams.get('token') ?? undefined
}

function send (res: ServerResponse, status: number, body: unknown, type = 'application/json'): void {
  const text = type === 'application/json' ? JSON.stringify(body) : String(body)
  res.writeHead(status, {
    'content-type': type === 'application/json' ? 'application/json; charset=utf-8' : type,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY'
  })
  res.end(text)
}

async function readJson (req: IncomingMessage, limit = 64 * 1024): Promise<unknown> {
  let size = 0
  const chunks: Buffer[] = []
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > limit) throw new Error('body too large')
    chunks.push(chunk as Buffer)
  }
  const text = Buffer.concat(chunks).toString('utf8')
  return text === '' ? {} : JSON.parse(text) as unknown
}

function eventData (name: string, detail: unknown): unknown {
  if (name === 'fault') {
    const f = detail as NodeEvents['fault'][0]
    return { where: f.where, error: f.error.message, key: f.key }
  }
  return detail
}

export async function startHttp (init: HttpInit): Promise<HttpServer> {
  const { node, token } = init
  const host = init.host ?? '127.0.0.1'
  const metrics = createMetrics(node)
  let hosts = allowedHosts(host, init.port ?? 0)
  const open = new Set<ServerResponse>()

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://bzzz.invalid')
    if (req.headers.host === undefined || !hosts.has(req.headers.host.toLowerCase())) {
      send(res, 403, { error: 'foreign Host header refused' })
      return
    }
    const method = req.method ?? 'GET'
    const mutating = method !== 'GET' && method !== 'HEAD'
    if ((mutating || !isLoopback(host)) && !sameToken(bearer(req, url), token)) {
      send(res, 401, { error: 'this request needs the token from the data directory (Authorization: Bearer …)' })
      return
    }
    if (mutating && req.headers.origin !== undefined && !hosts.has(req.headers.origin.replace(/^https?:\/\//, '').toLowerCase())) {
      send(res, 403, { error: 'foreign Origin refused' })
      return
    }
    const route = `${method} ${url.pathname}`
    switch (route) {
      case 'GET /':
      case 'GET /dashboard':
        res.writeHead(200, {
          'content-type': 'text/html; charset=utf-8',
          'cache-control': 'no-store',
          'content-security-policy': "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'",
          'x-frame-options': 'DENY'
        })
        res.end(DASHBOARD_HTML)
        return
      case 'GET /api/status':
        send(res, 200, node.status())
        return
      case 'GET /api/peers':
        send(res, 200, node.peers().map(peerSummary))
        return
      case 'GET /api/capabilities':
        send(res, 200, node.peers().map((p) => ({ nodeId: p.nodeId, liveness: p.liveness, capabilities: p.capabilities ?? null })))
        return
      case 'GET /api/tasks':
        send(res, 200, node.tasks().map(taskSummary))
        return
      case 'GET /api/log': {
        const author = url.searchParams.get('author') ?? node.nodeId
        const from = Math.max(0, Number(url.searchParams.get('from') ?? 0) || 0)
        const limit = Math.min(1000, Math.max(1, Number(url.searchParams.get('limit') ?? 200) || 200))
        const head = node.store.logHead(author)
        send(res, 200, { head, heads: node.store.logHeads(), entries: node.store.logRange(author, from, Math.min(head.length, from + limit)) })
        return
      }
      case 'GET /api/log/verify':
        send(res, 200, await node.verifyLogs())
        return
      case 'GET /metrics':
        send(res, 200, await metrics.registry.metrics(), metrics.registry.contentType)
        return
      case 'GET /api/events': {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' })
        res.write(': bzzz events\n\n')
        open.add(res)
        const listeners = NODE_EVENT_NAMES.map((name) => {
          const fn = (detail: unknown): void => { res.write(`event: ${name}\ndata: ${JSON.stringify(eventData(name, detail))}\n\n`) }
          node.on(name, fn as never)
          return [name, fn] as const
        })
        const ping = setInterval(() => { res.write(': ping\n\n') }, 15_000)
        req.on('close', () => {
          clearInterval(ping)
          for (const [name, fn] of listeners) node.off(name, fn as never)
          open.delete(res)
        })
        return
      }
      case 'POST /api/drain':
        send(res, 202, { phase: 'draining' })
        if (init.onDrain !== undefined) init.onDrain()
        else node.drain().catch(() => {})
        return
      case 'POST /api/replicate':
        send(res, 200, await node.replicate())
        return
      case 'POST /api/tasks': {
        if (init.onSubmit === undefined) { send(res, 501, { error: 'task submission is not configured' }); return }
        const body = await readJson(req) as { repo?: unknown, title?: unknown, body?: unknown }
        if (typeof body.repo !== 'string' || typeof body.title !== 'string' || body.title === '') {
          send(res, 400, { error: 'needs repo and title' })
          return
        }
        const issueUrl = await init.onSubmit({ repo: body.repo, title: body.title, body: typeof body.body === 'string' ? body.body : '' })
        send(res, 201, { url: issueUrl })
        return
      }
      default:
        send(res, 404, { error: `no route ${route}` })
    }
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: Error) => {
      if (!res.headersSent) send(res, 500, { error: err.message })
      else res.end()
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(err.code === 'EADDRINUSE' ? new PortInUseError(`http ${host}:${init.port ?? 0}`) : err)
    })
    server.listen(init.port ?? 0, host, () => { resolve() })
  })
  const port = (server.address() as AddressInfo).port
  hosts = allowedHosts(host, port)
  const shown = host.includes(':') ? `[${host}]` : host
  return {
    url: `http://${shown}:${port}`,
    host,
    port,
    close: async () => {
      metrics.close()
      for (const res of open) res.end()
      await new Promise<void>((resolve) => { server.close(() => { resolve() }) })
      server.closeAllConnections()
    }
  }
}
