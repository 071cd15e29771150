// Measures the GitHub budget of @bzzz/github against the forge and prints JSON lines:
// counted requests per task (claim → pull request) and an idle watcher's counted requests per hour.
// Run: npx -y pnpm@12 bench github   (from the repository root)
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { createForge } from '@bzzz/forge'
import { createClaimer, createGitHubClient, createPublisher, createWatcher, type ClaimHandle, type GitHubClient } from './index.js'
import { runMeshTask } from './takeover.bench.util.js'

const execFileP = promisify(execFile)
const tok = (login: string): string => `tok-${login}-bench-0123456789`

async function push (url: string, branch: string, env: Record<string, string>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'bzzz-bench-'))
  const e = { ...process.env, ...env, GIT_AUTHOR_NAME: 'b', GIT_AUTHOR_EMAIL: 'b@x', GIT_COMMITTER_NAME: 'b', GIT_COMMITTER_EMAIL: 'b@x' }
  try {
    await execFileP('git', ['clone', '-q', url, 'w'], { cwd: dir, env: e })
    const w = join(dir, 'w')
    await execFileP('git', ['checkout', '-q', '-b', branch], { cwd: w, env: e })
    await writeFile(join(w, 'x.txt'), branch)
    await execFileP('git', ['add', '.'], { cwd: w, env: e })
    await execFileP('git', ['commit', '-q', '-m', branch], { cwd: w, env: e })
    await execFileP('git', ['push', '-q', 'origin', branch], { cwd: w, env: e })
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

const forge = await createForge({
  port: 0,
  host: '127.0.0.1',
  forkDelayMs: 500,
  faults: { latencyMs: [0, 10], listLagMs: 200 },
  seed: {
    users: ['alice', 'reader', 'triager', 'peer1', 'peer2', 'peer3'].map((login) => ({ login, token: tok(login) })),
    repos: [{
      owner: 'alice',
      name: 'tasks',
      files: { 'README.md': '# tasks\n' },
      permissions: { reader: 'read', triager: 'triage', peer1: 'triage', peer2: 'triage', peer3: 'triage' },
      labels: ['bzzz'],
      issues: Array.from({ length: 10 }, (_, i) => ({ title: `Task ${i + 1}`, body: 'work', author: 'alice', labels: ['bzzz'] }))
    }]
  }
})
const client = async (login: string): Promise<GitHubClient> => await createGitHubClient({
  token: tok(login), baseUrl: forge.url, gitBaseUrl: forge.url, throttle: { writeMinTimeMs: 0, notificationMinTimeMs: 0 }
})

try {
  let issue = 1
  for (const login of ['reader', 'triager']) {
    const c = await client(login)
    // A short margin: a young claim's first fence waits claim + 2 × settle + margin.
    const claimer = createClaimer({ client: c, node: login, settleMs: 400, marginMs: 1000 })
    const publisher = createPublisher({ client: c, settleMs: 400 })
    for (let k = 0; k < 3; k++) {
      const r = await claimer.claim('alice/tasks', issue++)
      if (r.outcome !== 'won') throw new Error('lost')
      const claim: ClaimHandle = r.claim
      if (login === 'triager' && k === 2) {
        // One renewal, then a fence: the renewal counts, the fence after it is a 304.
        const before = c.scopeCounts(claim.scope)
        await claim.renew()
        await claim.fence()
        const after = c.scopeCounts(claim.scope)
        console.log(JSON.stringify({ metric: 'renewal_then_fence', counted: after.counted - before.counted, not_modified: after.notModified - before.notModified }))
      }
      const fork = await publisher.ensureFork(claim.repo, { scope: claim.scope })
      await claim.fence()
      await push(fork.cloneUrl, `bzzz/${claim.issue}`, c.gitEnv())
      const pr = await publisher.openPullRequest(claim, { fork, branch: `bzzz/${claim.issue}`, title: 't', summary: 's' })
      await claim.complete('done', pr.url)
      const counts = c.scopeCounts(claim.scope)
      console.log(JSON.stringify({
        metric: 'requests_per_task', peer: login, permission: login === 'reader' ? 'read' : 'triage', task: claim.issue,
        fork: k === 0 ? 'created' : 'cached', renewals: login === 'triager' && k === 2 ? 1 : 0, counted: counts.counted, not_modified: counts.notModified, budget: 12
      }))
      if (k === 1) console.log(JSON.stringify({ bench: 'github.budget', case: 'task', peer: login, permission: login === 'reader' ? 'read' : 'triage', counted: counts.counted, goal: 8 }))
    }
  }

  // Takeover, production defaults (lease 20 min, settle 2 s, liveness: dead after 9 s): the first
  // holder is killed after pushing; from its last presence to the new holder's claim won.
  const mesh = await Promise.all(['peer1', 'peer2', 'peer3'].map(async (login) => ({ id: `node-${login}`, client: await client(login) })))
  const pushWork = async (p: { client: GitHubClient, fork: { cloneUrl: string } }, branch: string): Promise<void> => { await push(p.fork.cloneUrl, branch, p.client.gitEnv()) }
  const take = await runMeshTask({ clients: mesh, repo: 'alice/tasks', issue: issue++, killFirstHolder: true, push: pushWork, stopAfterTakeover: true, standbyStepMs: 3500, timeoutMs: 120_000 })
  console.log(JSON.stringify({ bench: 'github.takeover', takeover_ms: take.takeoverMs ?? null, lease_ms: 1_200_000, dead_after_ms: 9000, settle_ms: 2000, goal_ms: 15_000 }))

  // One task whose first holder is killed mid-work, every peer's requests counted (triage peers).
  const mesh2 = await Promise.all(['peer1', 'peer2', 'peer3'].map(async (login) => ({ id: `node2-${login}`, client: await client(login) })))
  const run2 = await runMeshTask({
    clients: mesh2, repo: 'alice/tasks', issue: issue++, killFirstHolder: true, push: pushWork, timeoutMs: 120_000,
    leaseMs: 60_000, settleMs: 400, marginMs: 1000, standbyStepMs: 1500, liveness: { suspectAfterMs: 1500, deadAfterMs: 3000 }
  })
  console.log(JSON.stringify({ bench: 'github.budget', case: 'task_with_takeover', peers: 3, permission: 'triage', counted: run2.counted, published: run2.results.length, goal: 14 }))

  // Idle watcher: polls with a short interval; the counted requests per poll, times the polls
  // an hour at the default interval (60 s), is the hourly cost per repository.
  const w = await client('alice')
  const watcher = createWatcher({ client: w, node: 'w', repos: ['alice/tasks'], intervalMs: 60_000 })
  await watcher.poll() // initial listing
  await new Promise((resolve) => setTimeout(resolve, 500)) // let the forge's list lag pass
  await watcher.poll() // first delta (stores the ETag)
  const before = w.scopeCounts(watcher.scopeOf('alice/tasks'))
  const polls = 120
  for (let i = 0; i < polls; i++) await watcher.poll()
  const after = w.scopeCounts(watcher.scopeOf('alice/tasks'))
  const perPoll = (after.counted - before.counted) / polls
  console.log(JSON.stringify({
    metric: 'idle_watcher', polls, counted: after.counted - before.counted, not_modified: after.notModified - before.notModified,
    default_interval_s: 60, counted_per_hour_per_repo: perPoll * 60, worst_case_per_hour_per_repo: 60, budget: 60
  }))
  // A change costs: one counted answer, then 304s again.
  forge.createIssue('alice', 'tasks', { title: 'new', body: 'x', author: 'alice', labels: ['bzzz'] })
  await new Promise((resolve) => setTimeout(resolve, 300))
  const c0 = w.scopeCounts(watcher.scopeOf('alice/tasks')).counted
  await watcher.poll()
  await watcher.poll()
  console.log(JSON.stringify({ metric: 'watcher_change', counted: w.scopeCounts(watcher.scopeOf('alice/tasks')).counted - c0 }))
  console.log(JSON.stringify({ metric: 'original_design_per_hour', peers: 10, repos: 5, interval_s: 30, counted: 10 * 5 * 120 }))
} finally {
  await forge.close()
}
