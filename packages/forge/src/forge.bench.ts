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
/** Users who each fork the repository and open pull requests from their fork. */
const FORKERS = Array.from({ length: 8 }, (_, i) => `f${i}`)

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
      users: [{ login: 'alice', token: 'tok-alice' }, ...FORKERS.map((u) => ({ login: u, token: `tok-${u}` }))],
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
    // Pull requests from eight forks into one repository, eight at a time (a mesh publishing).
    const branches: Array<{ user: string, branch: string }> = []
    for (const user of FORKERS) {
      const res = await fetch(`${forge.url}/repos/alice/r/forks`, { method: 'POST', headers: { authorization: `token tok-${user}`, accept: 'application/vnd.github+json' } })
      await res.arrayBuffer()
      while (!forge.state.repo(user, 'r').gitReady) await new Promise((resolve) => setTimeout(resolve, 20))
      const fdir = join(work, `fork-${user}`)
      await git(['clone', '--quiet', forge.gitUrl(user, 'r', `tok-${user}`), fdir])
      for (let k = 0; k < 10; k++) {
        await writeFile(join(fdir, `${user}-${k}.txt`), `${k}\n`)
        await git(['add', '.'], { cwd: fdir })
        await git(['commit', '--quiet', '-m', `${user} ${k}`], { cwd: fdir, env: id })
        await git(['push', '--quiet', 'origin', `HEAD:refs/heads/p${k}`], { cwd: fdir })
        branches.push({ user, branch: `p${k}` })
      }
    }
    await timed('POST pull request from a fork', branches.length, FORKERS.length, async (i) => {
      const { user, branch } = branches[(i % FORKERS.length) * 10 + Math.floor(i / FORKERS.length)]!
      const res = await fetch(`${forge.url}/repos/alice/r/pulls`, {
        method: 'POST',
        headers: { authorization: `token tok-${user}`, accept: 'application/vnd.github+json', 'content-type': 'application/json' },
        body: JSON.stringify({ title: `${user} ${branch}`, head: `${user}:${branch}`, base: 'main' })
      })
      await res.arrayBuffer()
      if (res.status !== 201) throw new Error(`POST pull: ${res.status}`)
    })
    console.log(JSON.stringify({ bench: 'memory', rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20), issues: ISSUES, comments: forge.state.repo('alice', 'r').comments.size }))
  } finally {
    await forge.close()
    await rm(work, { recursive: true, force: true })
  }
}

await main()
