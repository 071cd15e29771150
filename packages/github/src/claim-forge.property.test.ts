// The model-based test's invariants, a few runs against the real forge (real time, real HTTP,
// real git): three peers with real ledgers claim one issue by rank, the first holder may be
// killed after pushing (its claim is then broken), under list lag, 5xx before and after applying.
import { rm } from 'node:fs/promises'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseClaimMarker } from './claim.js'
import { issues, pushBranch, startForge } from './fixtures.test.util.js'
import { runMeshTask } from './takeover.bench.util.js'

const RUNS = Number(process.env.BZZZ_FORGE_RUNS ?? 3)
const PEERS = ['p1', 'p2', 'p3']

describe('the claim handle against the forge', () => {
  it(`${RUNS} runs with faults: at most one result, every finished claim names it`, async () => {
    await fc.assert(fc.asyncProperty(
      fc.record({
        lag: fc.integer({ min: 0, max: 300 }),
        errorRate: fc.constantFrom(0, 0.03),
        errorAfterApplyRate: fc.constantFrom(0, 0.05),
        kill: fc.boolean(),
        seed: fc.integer({ min: 1, max: 1000 })
      }),
      async (p) => {
        const fx = await startForge({
          users: ['alice', ...PEERS],
          seed: p.seed,
          faults: { latencyMs: [0, 20], listLagMs: p.lag, errorRate: p.errorRate, errorAfterApplyRate: p.errorAfterApplyRate },
          repos: [{ owner: 'alice', name: 'tasks', files: { 'README.md': '# tasks\n' }, permissions: Object.fromEntries(PEERS.map((u) => [u, 'triage'])), labels: ['bzzz'], issues: issues(1, 'alice') }]
        })
        try {
          const clients = await Promise.all(PEERS.map(async (login) => ({ id: `node-${login}`, client: await fx.client(login) })))
          const run = await runMeshTask({
            clients,
            repo: 'alice/tasks',
            issue: 1,
            killFirstHolder: p.kill,
            push: async (peer, branch) => { await rm(await pushBranch(peer.fork.cloneUrl, branch, peer.client.gitEnv()), { recursive: true, force: true }) },
            leaseMs: 30_000,
            settleMs: 400,
            marginMs: 1500,
            standbyStepMs: 1500,
            liveness: { suspectAfterMs: 1000, deadAfterMs: 2000 },
            timeoutMs: 40_000
          })
          fx.forge.setFaults({ errorRate: 0, errorAfterApplyRate: 0, listLagMs: 0 })
          const alice = await fx.client('alice')
          const pulls = await alice.request('GET /repos/{owner}/{repo}/pulls', { owner: 'alice', repo: 'tasks', state: 'all' })
          expect(pulls.data.length).toBeLessThanOrEqual(1)
          if (run.results.length > 0) expect(pulls.data.map((x) => x.html_url)).toEqual([run.results[0]])
          const cs = await alice.request('GET /repos/{owner}/{repo}/issues/{issue_number}/comments', { owner: 'alice', repo: 'tasks', issue_number: 1, per_page: 100 })
          const finished = cs.data.map((c) => parseClaimMarker(c.body)).filter((m) => m !== undefined && m.state !== 'claimed')
          for (const m of finished) expect(m!.result_url).toBe(pulls.data[0]?.html_url)
          // Without faults the task is done; a kill costs a takeover, not the task.
          if (p.errorRate === 0 && p.errorAfterApplyRate === 0) expect(run.results).toHaveLength(1)
        } finally {
          await fx.close()
        }
      }
    ), { numRuns: RUNS })
  }, 300_000)
})
