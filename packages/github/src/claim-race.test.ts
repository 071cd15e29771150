import { afterEach, describe, expect, it } from 'vitest'
import { parseClaimMarker } from './claim.js'
import { createClaimer, type ClaimOutcome } from './claimer.js'
import type { GitHubClient } from './client.js'
import { GitHubError } from './errors.js'
import { issues, startForge, type Fixture } from './fixtures.test.util.js'

const CLAIMERS = 20
const ISSUES = 100
const LIST_LAG_MS = 250

describe('claim race against the forge', () => {
  let fx: Fixture | undefined
  afterEach(async () => { await fx?.close(); fx = undefined })

  const cases: Array<{ seed: number, faults: Record<string, unknown> }> = [
    { seed: 1, faults: { latencyMs: [0, 30], listLagMs: LIST_LAG_MS } },
    { seed: 2, faults: { latencyMs: [0, 60], listLagMs: LIST_LAG_MS } },
    { seed: 3, faults: { latencyMs: [0, 30], listLagMs: LIST_LAG_MS, errorRate: 0.03, errorAfterApplyRate: 0.03 } }
  ]

  for (const { seed, faults } of cases) {
    it(`${CLAIMERS} claimers × ${ISSUES} issues, seed ${seed} ${JSON.stringify(faults)}: exactly one winner per issue, every loser knows`, async () => {
      const users = Array.from({ length: CLAIMERS }, (_, i) => `peer${i}`)
      fx = await startForge({
        users: ['alice', ...users],
        seed,
        faults,
        repos: [{
          owner: 'alice',
          name: 'tasks',
          files: { 'README.md': '# tasks\n' },
          // Half the peers may only read: the claim is a comment, which they can still post.
          permissions: Object.fromEntries(users.map((u, i) => [u, i % 2 === 0 ? 'read' : 'write'])),
          issues: issues(ISSUES, 'alice')
        }]
      })
      const clients: GitHubClient[] = await Promise.all(users.map(async (u) => await fx!.client(u)))
      const claimers = clients.map((client, i) => createClaimer({
        client, node: `node-${i}`, leaseMs: 120_000, settleMs: LIST_LAG_MS + 150, setStatus: false, trustedClaimants: users
      }))

      const results = new Map<number, Array<ClaimOutcome | Error>>()
      const BATCH = 20
      for (let start = 1; start <= ISSUES; start += BATCH) {
        const batch = Array.from({ length: Math.min(BATCH, ISSUES - start + 1) }, (_, k) => start + k)
        await Promise.all(batch.flatMap((n) => claimers.map(async (c) => {
          const r = await c.claim('alice/tasks', n).catch((err: unknown) => err as Error)
          const list = results.get(n) ?? []
          list.push(r)
          results.set(n, list)
        })))
      }

      let errors = 0
      for (let n = 1; n <= ISSUES; n++) {
        const rs = results.get(n)!
        expect(rs).toHaveLength(CLAIMERS)
        for (const r of rs) {
          if (r instanceof Error) {
            // A claimer may give up after its retries, with a typed error, and then it holds nothing.
            expect(r).toBeInstanceOf(GitHubError)
            errors++
          }
        }
        const won = rs.filter((r): r is Extract<ClaimOutcome, { outcome: 'won' }> => !(r instanceof Error) && r.outcome === 'won')
        expect(won, `issue #${n}`).toHaveLength(1)
        const winner = won[0]!.claim
        for (const r of rs) {
          if (r instanceof Error || r.outcome === 'won') continue
          // Every POST of its claim answered 5xx and none found on the list: it gave up, holding nothing.
          if (r.reason === 'unanswered' && 'errorRate' in faults) { errors++; continue }
          expect(r.reason).toBe('held')
          expect(r.winner?.id).toBe(winner.claimId)
          expect(r.winner?.node).toBe(winner.node)
        }
      }
      // Only injected 5xx answers may exhaust a claimer's retries or leave its claim unanswered;
      // latency and list lag never may.
      expect(errors).toBeLessThanOrEqual('errorRate' in faults ? 2 : 0)

      // Losers withdrew: once the list catches up, each issue holds exactly the winner's claim.
      await new Promise((resolve) => setTimeout(resolve, LIST_LAG_MS + 100))
      fx.forge.setFaults({ errorRate: 0, errorAfterApplyRate: 0, listLagMs: 0 })
      const reader = clients[0]!
      for (let n = 1; n <= ISSUES; n += 7) {
        const res = await reader.request('GET /repos/{owner}/{repo}/issues/{issue_number}/comments', { owner: 'alice', repo: 'tasks', issue_number: n, per_page: 100 })
        const claims = res.data.filter((c) => parseClaimMarker(c.body) !== undefined)
        expect(claims.map((c) => c.id)).toEqual([(results.get(n)!.find((r) => !(r instanceof Error) && r.outcome === 'won') as Extract<ClaimOutcome, { outcome: 'won' }>).claim.claimId])
      }
    }, 120_000)
  }
})
