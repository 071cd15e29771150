/**
 * `createForge`: the HTTP server — GitHub's REST API (the part Bzzz uses) on top of the
 * state model, git smart HTTP through `git http-backend`, rate limits, faults and webhooks.
 * The routes live in routes/ (one module per resource), the REST plumbing in rest.ts, git
 * smart HTTP in git-http.ts, and the git-backed state updates in sync.ts.
 */
import { EventEmitter } from 'node:events'
import { createServer } from 'node:http'
import type { Server } from 'node:http'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FaultInjector, seededRandom } from './faults.js'
import { KeyedQueue } from './git.js'
import { gitHandler, GIT_PATH } from './git-http.js'
import { RateLimiter } from './ratelimit.js'
import { Renderer } from './render.js'
import { DOCS, restHandler } from './rest.js'
import { Router } from './router.js'
import type { ForgeServices, Handler } from './routes/common.js'
import { commentRoutes } from './routes/comments.js'
import { gitRoutes } from './routes/git.js'
import { issueRoutes } from './routes/issues.js'
import { labelRoutes } from './routes/labels.js'
import { orgRoutes } from './routes/orgs.js'
import { pullRoutes } from './routes/pulls.js'
import { repositoryRoutes } from './routes/repositories.js'
import { timelineRoutes } from './routes/timeline.js'
import { userRoutes } from './routes/users.js'
import { ForgeState } from './state.js'
import type { RepoRecord } from './state.js'
import { repoSync } from './sync.js'
import type { Forge, ForgeEvents, ForgeInit } from './types.js'
import { Webhooks } from './webhooks.js'

export type { Forge, ForgeEvents, ForgeInit, ForgeSeed, PushEvent, RequestEvent, SeedIssue, SeedOrg, SeedRepo, SeedUser } from './types.js'

export async function createForge (init: ForgeInit = {}): Promise<Forge> {
  const now = init.now ?? Date.now
  const state = new ForgeState({ now })
  const random = init.random != null ? seededRandom(init.random.seed) : Math.random
  const faults = new FaultInjector(init.faults ?? {}, random)
  const background = new Set<Promise<unknown>>()
  const ownDataDir = init.dataDir == null
  const dataDir = init.dataDir ?? await mkdtemp(join(tmpdir(), 'bzzz-forge-'))
  const track = <T>(p: Promise<T>): Promise<T> => {
    background.add(p)
    void p.catch(() => {}).finally(() => background.delete(p))
    return p
  }
  const core = {
    state,
    faults,
    limiter: new RateLimiter(init.rateLimit ?? {}, now),
    webhooks: new Webhooks(() => faults.webhook()),
    gitQueue: new KeyedQueue(),
    events: new EventEmitter<ForgeEvents>(),
    now,
    dataDir,
    forkDelayMs: init.forkDelayMs ?? 0,
    url: '',
    render: new Renderer(state, 'http://127.0.0.1'),
    path: (r: RepoRecord): string => join(dataDir, `${r.key}.git`),
    track
  }
  const sync = repoSync(core)
  const f: ForgeServices = Object.assign(core, { refreshRefs: sync.refreshRefs, startFork: sync.startFork })
  const { limiter, webhooks, gitQueue, events, path } = f

  // Where patterns overlap, the most specific answers (router.ts): the order here does not matter.
  const router = new Router<Handler>()
  userRoutes(router, f)
  orgRoutes(router, f)
  repositoryRoutes(router, f)
  gitRoutes(router, f)
  commentRoutes(router, f)
  issueRoutes(router, f)
  labelRoutes(router, f)
  pullRoutes(router, f)
  timelineRoutes(router, f)
  const handleRest = restHandler(f, router)
  const handleGit = gitHandler(f)

  const server: Server = createServer((req, res) => {
    const reqUrl = new URL(req.url ?? '/', 'http://forge.invalid')
    const gitMatch = GIT_PATH.exec(reqUrl.pathname)
    const work = gitMatch != null ? handleGit(req, res, reqUrl, gitMatch) : handleRest(req, res, reqUrl)
    void track(work.catch((err: unknown) => {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' })
        res.end(JSON.stringify({ message: 'Server Error', documentation_url: DOCS, status: '500' }))
      } else res.destroy()
      if (process.env.BZZZ_FORGE_DEBUG != null) console.error('forge: request failed', err)
    }))
  })
  server.keepAliveTimeout = 5_000

  for (const u of init.seed?.users ?? []) state.addUser(u)
  for (const o of init.seed?.orgs ?? []) state.addOrg(o)

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(init.port ?? 0, init.host ?? '127.0.0.1', () => { server.off('error', reject); resolve() })
  })
  const address = server.address()
  const port = typeof address === 'object' && address != null ? address.port : 0
  const host = init.host ?? '127.0.0.1'
  f.url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`
  f.render = new Renderer(state, f.url)

  try {
    for (const r of init.seed?.repos ?? []) await sync.createRepoOnDisk(r)
  } catch (err) {
    server.close()
    if (ownDataDir) await rm(dataDir, { recursive: true, force: true })
    throw err
  }

  let closed = false
  const forge: Forge = {
    events,
    url: f.url,
    port,
    dataDir,
    state,
    deliveries: webhooks.deliveries,
    gitUrl: (owner, repo, token) => {
      const u = new URL(`${f.url}/${owner}/${repo}.git`)
      if (token != null) { u.username = 'x-access-token'; u.password = token }
      return u.toString()
    },
    repoPath: (owner, repo) => path(state.repo(owner, repo)),
    setFaults: (f) => { faults.configure(f) },
    setRateLimit: (c) => { limiter.configure(c) },
    resetRateLimits: () => { limiter.reset() },
    rateLimitUsage: (login) => limiter.primary(login?.toLowerCase()),
    burstRateLimit: (kind, durationMs) => { faults.burst(kind, now() + durationMs) },
    addUser: (u) => state.addUser(u),
    addRepo: async (r, options = {}) => {
      // Checked before anything is made: once begun, a repository is created in full (never half).
      options.signal?.throwIfAborted()
      return await sync.createRepoOnDisk(r)
    },
    createIssue: (owner, repo, i) => sync.seedIssue(state.repo(owner, repo), i),
    addWebhook: (owner, repo, hook) => webhooks.add(state.repo(owner, repo).key, hook),
    removeWebhook: (id) => { webhooks.remove(id) },
    settled: async () => {
      while (background.size > 0) await Promise.allSettled([...background])
      await gitQueue.idle()
      await webhooks.settled()
    },
    close: async () => {
      if (closed) return
      closed = true
      const done = new Promise<void>((resolve) => server.close(() => { resolve() }))
      server.closeIdleConnections()
      setTimeout(() => server.closeAllConnections(), 2_000).unref()
      await done
      await forge.settled().catch(() => {})
      if (ownDataDir) await rm(dataDir, { recursive: true, force: true })
    }
  }
  return forge
}
