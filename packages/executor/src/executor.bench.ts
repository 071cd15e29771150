// Benchmarks, as JSON lines:
// {"bench":"executor.workspace","case":"cold"|"warm","git":"isomorphic-git"|"cli","files":5000,"ms":N}
// {"bench":"executor.overhead","case":"cold"|"warm","before_agent_ms":N,"after_agent_ms":N,"forge_ms":N}
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

  // The executor's own overhead around an instant agent: claim held → agent started, agent ended → pull request open.
  {
    const claimer = createClaimer({ client, node: '12D3KooWbenchnode', settleMs: 100, setStatus: false })
    let forgeMs = 0
    let counting = false
    forge.events.on('request', (e: { ms: number }) => { if (counting) forgeMs += e.ms })
    const executor = createExecutor({
      dataDir: join(scratch, 'overhead'),
      agent: createCommandAdapter({ command: ['bash', '-c', 'echo "change $RANDOM" > bench.txt; echo \'{"type":"final","ok":true}\''] }),
      publisher,
      gitEnv: () => client.gitEnv(),
      identity,
      wipIntervalMs: 0
    })
    const warm: Array<{ before: number, after: number, forge: number }> = []
    for (let i = 1; i <= ROUNDS + 1; i++) {
      const r = await claimer.claim('alice/big', i)
      if (r.outcome !== 'won') throw new Error('claim lost')
      const t0 = performance.now()
      let started = 0
      let ended = 0
      counting = false
      forgeMs = 0
      const outcome = await executor.run({ repo: 'alice/big', issue: i, title: `Task ${i}`, body: 'bench' }, r.claim, {
        onEvent: (e) => {
          if (e.type !== 'state') return
          if (e.state === 'running') started = performance.now()
          if (e.state === 'collecting') { ended = performance.now(); counting = true }
        }
      })
      const forgeAfter = forgeMs
      if (outcome.type !== 'pull_request') throw new Error(`expected a pull request, got ${outcome.type}`)
      const done = performance.now()
      const m = { before: started - t0, after: done - ended, forge: forgeAfter }
      if (i === 1) line({ bench: 'executor.overhead', case: 'cold', before_agent_ms: Math.round(m.before), after_agent_ms: Math.round(m.after), forge_ms: Math.round(m.forge) })
      else warm.push(m)
    }
    const pick = (k: 'before' | 'after' | 'forge'): number => Math.round(median(warm.map((w) => w[k])))
    line({ bench: 'executor.overhead', case: 'warm', before_agent_ms: pick('before'), after_agent_ms: pick('after'), forge_ms: pick('forge') })
  }
} finally {
  await forge.close()
  await rm(scratch, { recursive: true, force: true })
}
