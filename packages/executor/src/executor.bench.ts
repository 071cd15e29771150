// Benchmarks, as JSON lines:
// {"bench":"executor.workspace","case":"cold"|"warm","git":"isomorphic-git"|"cli","files":5000,"ms":N}
// {"bench":"executor.overhead","case":"cold"|"warm","before_agent_ms":N,"after_agent_ms":N,"forge_ms":N,"excl_forge_ms":N}
// Run: npx -y pnpm@12 --filter @bzzz/executor bench
import * as fs from 'node:fs'
import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { createForge } from '@bzzz/forge'
import { createClaimer, createGitHubClient, createPublisher } from '@bzzz/github'
import git from 'isomorphic-git'
import http from 'isomorphic-git/http/node'
import { createCommandAdapter } from './command-adapter.js'
import { createExecutor } from './executor.js'
import { createWorkspaces } from './workspace.js'

const FILES = Number(process.env.BENCH_FILES ?? 5000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const identity = { name: 'Bench Node', email: 'bench@example.test' }
const token = (login: string): string => `tok-${login}-0123456789abcdef`

const forge = await createForge({
  port: 0,
  seed: {
    users: ['alice', 'bob'].map((login) => ({ login, token: token(login), email: `${login}@example.test` })),
    repos: [{ owner: 'alice', name: 'big', files: { 'README.md': '# big\n' }, issues: Array.from({ length: ROUNDS + 1 }, (_, i) => ({ title: `Task ${i + 1}`, author: 'alice', labels: ['bzzz'] })) }]
  },
  rateLimit: { primaryLimit: 1_000_000, concurrent: 10_000, pointsPerMinute: 1e7, contentPerMinute: 1e6, contentPerHour: 1e6 }
})
const execFileP = promisify(execFile)
const scratch = await mkdtemp(join(tmpdir(), 'bzzz-exec-bench-'))
// The 5000 files arrive as one pushed commit (seeding them through the forge is slow).
{
  const src = join(scratch, 'seed')
  await mkdir(src, { recursive: true })
  const sh = async (args: string[]): Promise<void> => { await execFileP('git', args, { cwd: src, env: { ...process.env, GIT_AUTHOR_NAME: 'a', GIT_AUTHOR_EMAIL: 'a@example.test', GIT_COMMITTER_NAME: 'a', GIT_COMMITTER_EMAIL: 'a@example.test' } }) }
  await sh(['clone', '-q', forge.gitUrl('alice', 'big', token('alice')), '.'])
  for (let i = 0; i < FILES; i++) {
    const dir = join(src, 'src', `dir${i % 50}`)
    if (i < 50) await mkdir(dir, { recursive: true })
    await writeFile(join(dir, `file${i}.ts`), `export const value${i} = ${i}\n// ${'x'.repeat(200)}\n`)
  }
  await sh(['add', '-A'])
  await sh(['commit', '-qm', `${FILES} files`])
  await sh(['push', '-q', 'origin', 'HEAD:main'])
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const line = (o: Record<string, unknown>): void => { console.log(JSON.stringify(o)) }

try {
  const client = await createGitHubClient({ token: token('bob'), baseUrl: forge.url, gitBaseUrl: forge.url, throttle: { writeMinTimeMs: 0, notificationMinTimeMs: 0 }, log: { warn: () => {}, error: () => {} } })
  const publisher = createPublisher({ client, settleMs: 100, forkPollMs: 50 })
  const fork = await publisher.ensureFork('alice/big')

  // The git CLI: a bare cache per repository, a `clone --shared` per task.
  {
    const cold: number[] = []
    const warm: number[] = []
    for (let r = 0; r < ROUNDS; r++) {
      const root = join(scratch, `cli-${r}`)
      const ws = createWorkspaces({ root, gitEnv: () => client.gitEnv(), identity })
      let t = performance.now()
      ws.release(await ws.prepare({ upstream: 'alice/big', fork, branch: 'bzzz/1-bench' }))
      cold.push(performance.now() - t)
      t = performance.now()
      ws.release(await ws.prepare({ upstream: 'alice/big', fork, branch: 'bzzz/2-bench' }))
      warm.push(performance.now() - t)
    }
    line({ bench: 'executor.workspace', case: 'cold', git: 'cli', files: FILES, ms: Math.round(median(cold)) })
    line({ bench: 'executor.workspace', case: 'warm', git: 'cli', files: FILES, ms: Math.round(median(warm)) })
  }

  // isomorphic-git: a clone per repository, reused (fetch, new branch, forced checkout).
  {
    const headers = { Authorization: `Basic ${Buffer.from(`x-access-token:${token('bob')}`).toString('base64')}` }
    const url = `${forge.url}/alice/big.git`
    const cold: number[] = []
    const warm: number[] = []
    for (let r = 0; r < ROUNDS; r++) {
      const dir = join(scratch, `iso-${r}`)
      let t = performance.now()
      await git.clone({ fs, http, dir, url, ref: 'main', singleBranch: true, noTags: true, headers })
      await git.branch({ fs, dir, ref: 'bzzz/1-bench', checkout: true })
      cold.push(performance.now() - t)
      t = performance.now()
      await git.fetch({ fs, http, dir, url, ref: 'main', singleBranch: true, tags: false, headers })
      await git.branch({ fs, dir, ref: 'bzzz/2-bench', object: 'refs/remotes/origin/main' })
      await git.checkout({ fs, dir, ref: 'bzzz/2-bench', force: true })
      warm.push(performance.now() - t)
    }
    line({ bench: 'executor.workspace', case: 'cold', git: 'isomorphic-git', files: FILES, ms: Math.round(median(cold)) })
    line({ bench: 'executor.workspace', case: 'warm', git: 'isomorphic-git', files: FILES, ms: Math.round(median(warm)) })
  }

  // The executor's own overhead around an instant agent: claim held → agent started, agent ended →
  // pull request open. `forge_ms`: the forge's share (REST answers, as the forge timed them, plus
  // git fetch/push round trips to it); `excl_forge_ms`: what is left, the executor's own work.
  {
    // Claim v2's fence of a young claim waits out created_at + 2×settle + margin; a real agent runs
    // far longer than that, an instant one would spend it inside after_agent_ms. So each run starts
    // once its claim is past that age (the claim's cost, measured by @bzzz/github's bench).
    const claimer = createClaimer({ client, node: '12D3KooWbenchnode', settleMs: 100, marginMs: 3000, leaseMs: 60_000, setStatus: false })
    let forgeMs = 0
    forge.events.on('request', (e: { ms: number }) => { forgeMs += e.ms })
    const executor = createExecutor({
      dataDir: join(scratch, 'overhead'),
      agent: createCommandAdapter({ command: ['bash', '-c', 'echo "change $RANDOM" > bench.txt; echo \'{"type":"final","ok":true}\''] }),
      publisher,
      gitEnv: () => client.gitEnv(),
      identity,
      wipIntervalMs: 0,
      log: { debug: (m) => { const x = /^git (?:fetch|push) (\d+) ms$/.exec(m); if (x !== null) forgeMs += Number(x[1]) } }
    })
    const warm: Array<{ before: number, after: number, forge: number }> = []
    for (let i = 1; i <= ROUNDS + 1; i++) {
      const r = await claimer.claim('alice/big', i)
      if (r.outcome !== 'won') throw new Error('claim lost')
      await new Promise((resolve) => setTimeout(resolve, 2 * 100 + 3000 + 300))
      let started = 0
      let ended = 0
      let forgeDuringAgent = 0
      forgeMs = 0
      const t0 = performance.now()
      const outcome = await executor.run({ repo: 'alice/big', issue: i, title: `Task ${i}`, body: 'bench' }, r.claim, {
        onEvent: (e) => {
          if (e.type !== 'state') return
          if (e.state === 'running') { started = performance.now(); forgeDuringAgent = forgeMs }
          if (e.state === 'collecting') { ended = performance.now(); forgeDuringAgent = forgeMs - forgeDuringAgent }
        }
      })
      if (outcome.type !== 'pull_request') throw new Error(`expected a pull request, got ${outcome.type}`)
      const m = { before: started - t0, after: performance.now() - ended, forge: forgeMs - forgeDuringAgent }
      if (i === 1) line({ bench: 'executor.overhead', case: 'cold', before_agent_ms: Math.round(m.before), after_agent_ms: Math.round(m.after), forge_ms: Math.round(m.forge), excl_forge_ms: Math.round(m.before + m.after - m.forge) })
      else warm.push(m)
    }
    const pick = (f: (w: { before: number, after: number, forge: number }) => number): number => Math.round(median(warm.map(f)))
    line({ bench: 'executor.overhead', case: 'warm', before_agent_ms: pick((w) => w.before), after_agent_ms: pick((w) => w.after), forge_ms: pick((w) => w.forge), excl_forge_ms: pick((w) => w.before + w.after - w.forge) })
  }
} finally {
  await forge.close()
  await rm(scratch, { recursive: true, force: true })
}
