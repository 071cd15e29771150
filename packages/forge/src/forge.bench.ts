/**
 * Throughput of the forge's REST API and latency of a git push, as JSON lines:
 *   npx -y pnpm@12 bench forge   (from the repository root)
 * Each line: { bench, ops, seconds, opsPerSec | msPerOp, … }.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createForge } from './forge.js'
import { git } from './git.js'

const ISSUES = 100
const COMMENTS_PER_ISSUE = 10

async function timed (bench: string, ops: number, concurrency: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0
  const t0 = performance.now()
  await Promise.all(Array.from({ length: concurrency }, async () => {
    for (let i = next++; i < ops; i = next++) await fn(i)
  }))
  const seconds = (performance.now() - t0) / 1000
  console.log(JSON.stringify({ bench, ops, concurrency, seconds: Number(seconds.toFixed(3)), opsPerSec: Math.round(ops / seconds), msPerOp: Number((seconds * 1000 / ops).toFixed(2)) }))
}

async function main (): Promise<void> {
  const forge = await createForge({
    seed: {
      users: [{ login: 'alice', token: 'tok-alice' }],
      repos: [{ owner: 'alice', name: 'r', files: { 'README.md': 'r\n' } }]
    },
    rateLimit: { primaryLimit: 1e9, pointsPerMinute: 1e9, contentPerMinute: 1e9, contentPerHour: 1e9, concurrent: 1e6 }
  })
  const work = await mkdtemp(join(tmpdir(), 'forge-bench-'))
  try {
    for (let i = 0; i < ISSUES; i++) {
      forge.createIssue('alice', 'r', { title: `issue ${i}`, author: 'alice' })
      for (let c = 0; c < COMMENTS_PER_ISSUE; c++) forge.state.createComment(forge.state.repo('alice', 'r'), 'alice', i + 1, `c${c}`)
    }
    const headers = { authorization: 'token tok-alice', accept: 'application/vnd.github+json' }
    const get = async (path: string): Promise<void> => {
      const res = await fetch(`${forge.url}${path}`, { headers })
      await res.arrayBuffer()
      if (res.status !== 200) throw new Error(`${path}: ${res.status}`)
    }
    await timed('GET issues list (per_page=100)', 300, 4, async () => { await get('/repos/alice/r/issues?per_page=100') })
    await timed('GET one issue', 2000, 8, async (i) => { await get(`/repos/alice/r/issues/${(i % ISSUES) + 1}`) })
    await timed('GET issue comments', 2000, 8, async (i) => { await get(`/repos/alice/r/issues/${(i % ISSUES) + 1}/comments`) })
    await timed('POST comment', 1000, 8, async (i) => {
      const res = await fetch(`${forge.url}/repos/alice/r/issues/${(i % ISSUES) + 1}/comments`, {
        method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ body: `b${i}` })
      })
      await res.arrayBuffer()
      if (res.status !== 201) throw new Error(`POST comment: ${res.status}`)
    })
    const dir = join(work, 'clone')
    await git(['clone', '--quiet', forge.gitUrl('alice', 'r', 'tok-alice'), dir])
    const id = { GIT_AUTHOR_NAME: 'b', GIT_AUTHOR_EMAIL: 'b@x', GIT_COMMITTER_NAME: 'b', GIT_COMMITTER_EMAIL: 'b@x' }
    await timed('git commit + push (new branch)', 20, 1, async (i) => {
      await writeFile(join(dir, 'f.txt'), `${i}\n`)
      await git(['commit', '--quiet', '-am', `c${i}`], { cwd: dir, env: id }).catch(async () => {
        await git(['add', 'f.txt'], { cwd: dir })
        await git(['commit', '--quiet', '-m', `c${i}`], { cwd: dir, env: id })
      })
      await git(['push', '--quiet', 'origin', `HEAD:refs/heads/b${i}`], { cwd: dir })
    })
    await timed('git clone', 10, 1, async (i) => {
      await git(['clone', '--quiet', forge.gitUrl('alice', 'r'), join(work, `c${i}`)])
    })
    console.log(JSON.stringify({ bench: 'memory', rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20), issues: ISSUES, comments: forge.state.repo('alice', 'r').comments.size }))
  } finally {
    await forge.close()
    await rm(work, { recursive: true, force: true })
  }
}

await main()
