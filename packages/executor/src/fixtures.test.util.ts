// Shared by the tests: the scripted agent, and finding its processes in /proc.
import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { createForge, type Forge } from '@bzzz/forge'
import { createClaimer, createGitHubClient, createPublisher, type ClaimHandle, type Claimer, type GitHubClient, type Publisher } from '@bzzz/github'

export const SCRIPTED_AGENT = fileURLToPath(new URL('./fixtures/scripted-agent.sh', import.meta.url))

let counter = 0
/** A mark unique to this test process and call, for the scripted agent's sleeps. */
export function newMark (): string {
  counter++
  return `${process.pid}${counter}`
}

/** Processes whose command line contains `mark`. */
export function processesWith (mark: string): string[] {
  const found: string[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ')
      if (cmd.includes(mark) && !cmd.includes('scripted-agent.sh')) found.push(`${entry}: ${cmd}`)
    } catch { /* gone */ }
  }
  return found
}

/** Waits until no process holds `mark` (or the time is up) and returns what is left. */
export async function leftOver (mark: string, waitMs = 2000): Promise<string[]> {
  const end = Date.now() + waitMs
  for (;;) {
    const left = processesWith(mark)
    if (left.length === 0 || Date.now() > end) return left
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** A forge with `alice/tasks` (issues labelled bzzz) and a peer `bob` that claims, forks and publishes. */
export async function startTaskForge (opts: { files?: Record<string, string>, issues?: Array<{ title: string, body?: string }> } = {}): Promise<TaskForge> {
  const forge = await createForge({
    port: 0,
    host: '127.0.0.1',
    seed: {
      users: ['alice', 'bob', 'carol'].map((login) => ({ login, token: tokenOf(login), email: `${login}@example.test` })),
      repos: [{
        owner: 'alice',
        name: 'tasks',
        files: opts.files ?? { 'README.md': '# tasks\n' },
        labels: ['bzzz'],
        issues: (opts.issues ?? [{ title: 'Add hello.txt', body: 'Please add a file hello.txt saying hi.' }]).map((i) => ({ ...i, author: 'alice', labels: ['bzzz'] }))
      }]
    },
    random: { seed: 1 },
    rateLimit: { primaryLimit: 1_000_000, concurrent: 10_000, pointsPerMinute: 10_000_000, contentPerMinute: 1_000_000, contentPerHour: 1_000_000 }
  })
  const peer = async (login: string, leaseMs = 60_000): Promise<Peer> => {
    const client = await createGitHubClient({
      token: tokenOf(login),
      baseUrl: forge.url,
      gitBaseUrl: forge.url,
      throttle: { writeMinTimeMs: 0, notificationMinTimeMs: 0, maxConcurrent: 100, retryAfterBaseMs: 50 },
      retry: { retryAfterBaseMs: 20 },
      log: { warn: () => {}, error: () => {} }
    })
    return {
      client,
      claimer: createClaimer({ client, node: `12D3KooW${login}node`, settleMs: 100, leaseMs, setStatus: false }),
      publisher: createPublisher({ client, settleMs: 100, forkPollMs: 50 })
    }
  }
  return { forge, peer, close: async () => { await forge.close() } }
}

export interface Peer { client: GitHubClient, claimer: Claimer, publisher: Publisher }
export interface TaskForge { forge: Forge, peer: (login: string, leaseMs?: number) => Promise<Peer>, close: () => Promise<void> }

export const tokenOf = (login: string): string => `tok-${login}-0123456789abcdef`

export async function won (claimer: Claimer, repo: string, issue: number): Promise<ClaimHandle> {
  const r = await claimer.claim(repo, issue)
  if (r.outcome !== 'won') throw new Error(`expected to win, lost: ${JSON.stringify(r)}`)
  return r.claim
}
