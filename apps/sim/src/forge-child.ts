/**
 * The forge process of a run (started by `forge-process.ts`): the forge with the run's seed,
 * answering the runner's calls over IPC. It closes and exits when the runner disconnects (or
 * dies).
 */
import { createForge, type Forge } from '@bzzz/forge'
import { parseClaimMarker } from '@bzzz/github'
import type { ForgeHello, ForgeOps, ForgeProcessInit, ForgeReply, ForgeRequest } from './forge-process.js'
import { claimsPosted, ineligibleTouched, LABEL, OWNER, publications, REPO_NAME } from './world.js'

/** Counted the way @bzzz/github counts: every answered request but 304s and `GET /rate_limit`. */
const counted = (path: string, status: number): boolean => status !== 304 && !path.startsWith('/rate_limit')

function opsOf (forge: Forge): ForgeOps {
  const repo = () => forge.state.repo(OWNER, REPO_NAME)
  let counting: { logins: Set<string>, n: number } | undefined
  forge.events.on('request', (r) => {
    if (counting !== undefined && r.login !== null && counting.logins.has(r.login) && counted(r.path, r.status)) counting.n++
  })
  let peakRss = process.memoryUsage.rss()
  setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage.rss()) }, 250).unref()
  return {
    label: (issue) => { forge.state.addLabels(repo(), 'maintainer', issue, [LABEL]) },
    forksReady: (logins) => logins.every((login) => {
      try { return forge.state.repo(login, REPO_NAME).gitReady } catch { return false } // not forked yet
    }),
    publications: (seeded) => publications(seeded, [...repo().issues.values()], [...repo().comments.values()]),
    claimsPosted: (epochMs) => claimsPosted([...repo().comments.values()], epochMs, (body) => parseClaimMarker(body) !== undefined),
    ineligible: (issues) => {
      const all = [...repo().issues.values()]
      const comments = [...repo().comments.values()]
      return issues.map((issue) => ({ issue, touched: ineligibleTouched(issue, all, comments) }))
    },
    setFaults: (faults) => { forge.setFaults(faults) },
    burstRateLimit: ({ kind, durationMs }) => { forge.burstRateLimit(kind, durationMs) },
    countFrom: (logins) => { counting = { logins: new Set(logins), n: 0 } },
    countStop: () => { const n = counting?.n ?? 0; counting = undefined; return n },
    peakRssMb: () => Math.max(peakRss, process.memoryUsage.rss()) / 1024 / 1024
  }
}

const send = (m: ForgeHello | ForgeReply): void => { if (process.connected) process.send?.(m) }

let forge: Forge | undefined
let runnerGone = false
const closeAndExit = (): void => { void (forge?.close() ?? Promise.resolve()).finally(() => process.exit(0)) }
// The runner disconnects when the run ends, or dies: the forge closes either way.
process.once('disconnect', () => { runnerGone = true; if (forge !== undefined) closeAndExit() })

process.once('message', (init: Omit<ForgeProcessInit, 'signal'>) => {
  createForge({
    port: 0,
    ...(init.host !== undefined ? { host: init.host } : {}),
    seed: init.seed,
    random: { seed: init.randomSeed },
    ...(init.secondaryRetryAfterS !== undefined ? { rateLimit: { secondaryRetryAfterS: init.secondaryRetryAfterS } } : {}),
    ...(init.listLagMs !== undefined ? { faults: { listLagMs: init.listLagMs } } : {})
  }).then((f) => {
    forge = f
    if (runnerGone) { closeAndExit(); return }
    const ops = opsOf(f)
    process.on('message', (req: ForgeRequest) => {
      try {
        const value = (ops[req.op] as (arg: unknown) => unknown)(req.arg)
        send({ id: req.id, ok: true, value })
      } catch (err) {
        send({ id: req.id, ok: false, error: err instanceof Error ? err.message : String(err) })
      }
    })
    send({ ready: { url: f.url } })
  }, (err: unknown) => {
    send({ failed: err instanceof Error ? err.message : String(err) })
    process.exit(1)
  })
})
