import { EventEmitter } from 'node:events'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { Webhooks, createNodeMiddleware } from '@octokit/webhooks'
import { formatTimestamp, type TaskBroadcastMessage } from '@bzzz/protocol'
import type { GitHubClient } from './client.js'
import {
  eligibility, labelNames, observeIssue, type EligibilityInit, type IssueChange, type IssueLike, type KnownIssue
} from './eligibility.js'
import { ConfigError, GitHubRequestError } from './errors.js'
import { checkNodeId, nextPage, parseRepo, sleep } from './util.js'

export interface WatcherInit extends EligibilityInit {
  client: GitHubClient
  /** The node id put into each `task_broadcast`. */
  node: string
  /** Repositories to watch, `owner/name`. */
  repos: readonly string[]
  /** Poll interval per repository. Default 60 s: at most 60 counted requests an hour even if no answer were a 304. */
  intervalMs?: number
  /** How far the `since` cursor stays behind the newest change seen (list lag, clock rounding). Default 5 min. */
  overlapMs?: number
  /** Move the cursor forward once a delta listing holds this many issues. Default 50. */
  cursorAdvanceAt?: number
  /** The model named in broadcasts when the issue has no `model:<name>` label. Default `default`. */
  defaultModel?: string
}

export interface WatcherEvents {
  task: [TaskBroadcastMessage]
  error: [Error]
  poll: [{ repo: string, notModified: boolean, changes: number }]
}

export interface WebhookReceiver {
  /** `http://127.0.0.1:PORT/path` */
  url: string
  close: () => Promise<void>
}

/**
 * Watches repositories' issues and turns eligible ones into `task_broadcast` messages (`task` events):
 * `open` when first seen, `update` when its title or body change, `withdraw` when it is closed,
 * unlabelled or otherwise stops being eligible. Polling is the base; a webhook makes it instant.
 */
export interface Watcher extends EventEmitter<WatcherEvents> {
  start: () => void
  stop: () => Promise<void>
  /** Polls one repository (or all) now; resolves to the changes announced. */
  poll: (repo?: string, options?: { signal?: AbortSignal }) => Promise<IssueChange[]>
  /** Feeds one webhook delivery's issue into the watcher (used by the receiver; for embedding in another server). */
  observe: (repo: string, issue: IssueLike) => IssueChange | undefined
  /** Starts an HTTP receiver for GitHub webhooks (signatures checked with `secret`). */
  listenWebhooks: (options: { secret: string, port?: number, host?: string, path?: string }) => Promise<WebhookReceiver>
  /** The accounting scope of a repository's polling: `watcher:owner/name`. */
  scopeOf: (repo: string) => string
}

interface RepoState {
  known: Map<number, KnownIssue>
  initialised: boolean
  cursor: string | undefined
  etags: Map<string, string>
  newestSeen: number
  polling: Promise<IssueChange[]> | undefined
}

class WatcherImpl extends EventEmitter<WatcherEvents> implements Watcher {
  private readonly init: WatcherInit
  private readonly client: GitHubClient
  private readonly rules
  private readonly repos = new Map<string, RepoState>()
  private controller: AbortController | undefined
  private loops: Array<Promise<void>> = []
  private readonly intervalMs: number
  private readonly overlapMs: number

  constructor (init: WatcherInit) {
    super()
    checkNodeId(init.node)
    this.init = init
    this.client = init.client
    this.rules = eligibility(init)
    this.intervalMs = init.intervalMs ?? 60_000
    this.overlapMs = init.overlapMs ?? 300_000
    for (const r of init.repos) {
      parseRepo(r)
      this.repos.set(r, { known: new Map(), initialised: false, cursor: undefined, etags: new Map(), newestSeen: 0, polling: undefined })
    }
  }

  /** An `error` event when someone listens (an unheard one would throw and stop polling), else a warning. */
  private report (err: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', err)
    else this.client.log.warn(`watcher: ${err.name}: ${err.message}`)
  }

  scopeOf (repo: string): string {
    return `watcher:${repo}`
  }

  start (): void {
    if (this.controller !== undefined) return
    const controller = new AbortController()
    this.controller = controller
    this.loops = [...this.repos.keys()].map(async (repo, i) => {
      // Spread the repositories over the interval.
      try {
        await sleep(Math.floor((this.intervalMs * i) / Math.max(1, this.repos.size)), controller.signal)
        while (!controller.signal.aborted) {
          try {
            await this.poll(repo, { signal: controller.signal })
          } catch (err) {
            if (controller.signal.aborted) return
            this.report(err as Error)
          }
          await sleep(this.intervalMs, controller.signal)
        }
      } catch {
        // aborted
      }
    })
  }

  async stop (): Promise<void> {
    this.controller?.abort()
    this.controller = undefined
    await Promise.allSettled(this.loops)
    this.loops = []
  }

  async poll (repo?: string, options: { signal?: AbortSignal } = {}): Promise<IssueChange[]> {
    if (repo === undefined) {
      const all = await Promise.all([...this.repos.keys()].map(async (r) => await this.poll(r, options)))
      return all.flat()
    }
    const st = this.repos.get(repo)
    if (st === undefined) throw new ConfigError(`not watching ${JSON.stringify(repo.slice(0, 200))}`)
    // One poll per repository at a time; a concurrent caller shares it.
    st.polling ??= this.pollRepo(repo, st, options.signal).finally(() => { st.polling = undefined })
    return await st.polling
  }

  private async pollRepo (repo: string, st: RepoState, signal?: AbortSignal): Promise<IssueChange[]> {
    const ref = parseRepo(repo)
    const scope = this.scopeOf(repo)
    const changes: IssueChange[] = []
    const take = (issues: IssueLike[]): void => {
      for (const issue of issues) {
        st.newestSeen = Math.max(st.newestSeen, Date.parse(issue.updated_at))
        const change = this.observe(repo, issue)
        if (change !== undefined) changes.push(change)
      }
    }
    if (!st.initialised) {
      // Everything open and labelled, then deltas from the server's clock at this listing.
      let page: number | undefined = 1
      let serverTime: number | undefined
      while (page !== undefined) {
        const res = await this.client.request('GET /repos/{owner}/{repo}/issues', {
          ...ref, state: 'open', labels: this.rules.label, sort: 'updated', direction: 'desc', per_page: 100, page
        }, { scope, signal })
        serverTime ??= res.serverTime
        take(res.data as IssueLike[])
        page = nextPage(res.link)
      }
      st.cursor = new Date((serverTime ?? Date.now()) - this.overlapMs).toISOString()
      st.initialised = true
      this.emit('poll', { repo, notModified: false, changes: changes.length })
      return changes
    }
    // Delta: everything updated since the cursor, newest first, so that any change alters page 1
    // (and its ETag); an unchanged page 1 is a free 304.
    const cursor = st.cursor!
    const key = `since=${cursor}`
    const res = await this.client.request('GET /repos/{owner}/{repo}/issues', {
      ...ref, state: 'all', since: cursor, sort: 'updated', direction: 'desc', per_page: 100
    }, { scope, signal, etag: st.etags.get(key) })
    if (res.notModified) {
      this.emit('poll', { repo, notModified: true, changes: 0 })
      return changes
    }
    if (res.etag !== undefined) st.etags.set(key, res.etag)
    const before = st.newestSeen
    let items = res.data as IssueLike[]
    take(items)
    let count = items.length
    let page = nextPage(res.link)
    // Older pages only while they may hold something not seen yet.
    while (page !== undefined && items.length > 0 && Date.parse(items[items.length - 1]!.updated_at) >= before - this.overlapMs) {
      const more = await this.client.request('GET /repos/{owner}/{repo}/issues', {
        ...ref, state: 'all', since: cursor, sort: 'updated', direction: 'desc', per_page: 100, page
      }, { scope, signal })
      items = more.data as IssueLike[]
      take(items)
      count += items.length
      page = nextPage(more.link)
    }
    if (count >= (this.init.cursorAdvanceAt ?? 50) && st.newestSeen > 0) {
      const next = new Date(st.newestSeen - this.overlapMs).toISOString()
      if (next > cursor) {
        st.cursor = next
        st.etags.clear()
      }
    }
    this.emit('poll', { repo, notModified: false, changes: changes.length })
    return changes
  }

  observe (repo: string, issue: IssueLike): IssueChange | undefined {
    const st = this.repos.get(repo)
    if (st === undefined) return undefined
    const change = observeIssue(st.known, issue, this.rules)
    if (change !== undefined) this.emit('task', this.toMessage(repo, change))
    return change
  }

  private toMessage (repo: string, change: IssueChange): TaskBroadcastMessage {
    const issue = change.issue
    const labels = labelNames(issue)
    const modelLabel = labels.find((l) => l.toLowerCase().startsWith('model:'))
    return {
      type: 'task',
      v: 1,
      task_id: `#${issue.number}`,
      repo,
      issue_url: issue.html_url,
      model: modelLabel !== undefined ? modelLabel.slice('model:'.length).slice(0, 256) : (this.init.defaultModel ?? 'default'),
      input: truncateUtf8(issue.body ?? '', 32 * 1024),
      params: { issue: issue.number, labels, author: issue.user?.login ?? null, author_association: issue.author_association ?? null },
      timestamp: formatTimestamp(),
      title: truncateUtf8(issue.title, 1024),
      node_id: this.init.node,
      action: change.action,
      revision: change.revision
    }
  }

  async listenWebhooks (options: { secret: string, port?: number, host?: string, path?: string }): Promise<WebhookReceiver> {
    const path = options.path ?? '/api/github/webhooks'
    const log = { debug: () => {}, info: () => {}, warn: (m: unknown) => { this.client.log.warn(describe(m)) }, error: (m: unknown) => { this.client.log.debug(describe(m)) } }
    const webhooks = new Webhooks({ secret: options.secret, log })
    webhooks.on('issues', (event) => {
      const full = event.payload.repository.full_name
      const repo = [...this.repos.keys()].find((r) => r.toLowerCase() === full.toLowerCase())
      if (repo === undefined) return
      if (event.payload.action === 'deleted' || event.payload.action === 'transferred') {
        // Gone from this repository: withdraw it by observing it as closed.
        this.observe(repo, { ...(event.payload.issue as unknown as IssueLike), state: 'closed', updated_at: new Date().toISOString() })
        return
      }
      this.observe(repo, event.payload.issue as unknown as IssueLike)
    })
    const middleware = createNodeMiddleware(webhooks, { path, log })
    const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
      middleware(req, res, () => {
        res.statusCode = 404
        res.end()
      }).catch((err: unknown) => {
        this.report(err instanceof GitHubRequestError ? err : new Error(`webhook handling failed: ${(err as Error).message}`))
        if (!res.headersSent) res.statusCode = 500
        res.end()
      })
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => { resolve() })
    })
    const addr = server.address()
    const port = typeof addr === 'object' && addr !== null ? addr.port : 0
    return {
      url: `http://${options.host ?? '127.0.0.1'}:${port}${path}`,
      close: async () => {
        server.closeAllConnections()
        await new Promise<void>((resolve) => server.close(() => { resolve() }))
      }
    }
  }
}

function describe (m: unknown): string {
  return m instanceof Error ? `webhook: ${m.message}` : `webhook: ${String(m)}`
}

/** At most `maxBytes` of UTF-8 (so that a broadcast stays under the 64 KiB message cap), cut at a character boundary. */
function truncateUtf8 (text: string, maxBytes: number): string {
  const bytes = Buffer.from(text, 'utf8')
  if (bytes.length <= maxBytes) return text
  let end = maxBytes
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--
  return bytes.subarray(0, end).toString('utf8')
}

export function createWatcher (init: WatcherInit): Watcher {
  return new WatcherImpl(init)
}
