import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import fs from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as isogit from 'isomorphic-git'
import http from 'isomorphic-git/http/node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createForge } from './forge.js'
import type { Forge, PushEvent } from './forge.js'
import { git } from './git.js'
import { baseInit, client, waitFor } from './test-utils.js'

const ID = { GIT_AUTHOR_NAME: 'T', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 'T', GIT_COMMITTER_EMAIL: 't@example.com' }

describe('git over smart HTTP', () => {
  let forge: Forge
  let work: string

  beforeAll(async () => {
    forge = await createForge(baseInit({ forkDelayMs: 500 }))
    work = await mkdtemp(join(tmpdir(), 'forge-git-test-'))
  })
  afterAll(async () => {
    await forge.close()
    await rm(work, { recursive: true, force: true })
  })

  const clone = async (token: string | undefined, dir: string, owner = 'org', repo = 'tasks'): Promise<string> => {
    const path = join(work, dir)
    await git(['clone', '--quiet', forge.gitUrl(owner, repo, token), path])
    return path
  }
  const commit = async (dir: string, file: string, content: string): Promise<string> => {
    await writeFile(join(dir, file), content)
    await git(['add', file], { cwd: dir })
    await git(['commit', '--quiet', '-m', `edit ${file}`], { cwd: dir, env: ID })
    return (await git(['rev-parse', 'HEAD'], { cwd: dir })).stdout.trim()
  }
  /** git push, returning its exit code and stderr instead of throwing. */
  const push = async (dir: string, ...args: string[]): Promise<{ ok: boolean, stderr: string }> => {
    try {
      await git(['push', '--porcelain', 'origin', ...args], { cwd: dir })
      return { ok: true, stderr: '' }
    } catch (err) {
      return { ok: false, stderr: String((err as { stderr?: string }).stderr ?? err) }
    }
  }

  it('clones anonymously, and pushes a branch with a write token; the API follows', async () => {
    const anon = await clone(undefined, 'anon')
    expect(await readFile(join(anon, 'README.md'), 'utf8')).toBe('# tasks\n')
    const dir = await clone('tok-alice', 'alice')
    await git(['checkout', '--quiet', '-b', 'feature/x'], { cwd: dir })
    const sha = await commit(dir, 'b.txt', 'b\n')
    const pushes: PushEvent[] = []
    forge.events.on('push', (p) => pushes.push(p))
    expect((await push(dir, 'feature/x')).ok).toBe(true)
    expect(pushes).toEqual([{ owner: 'org', repo: 'tasks', ref: 'refs/heads/feature/x', before: null, after: sha, pusher: 'alice' }])
    // The push returns only after the API shows it.
    const ref = await client(forge.url, 'tok-alice').rest.git.getRef({ owner: 'org', repo: 'tasks', ref: 'heads/feature/x' })
    expect(ref.data.object.sha).toBe(sha)
    const branch = await client(forge.url, 'tok-alice').rest.repos.getBranch({ owner: 'org', repo: 'tasks', branch: 'feature/x' })
    expect(branch.data.commit.commit.message).toBe('edit b.txt\n')
  })

  it('refuses pushes without a token (401), with a read token (403) and with a bad token (401)', async () => {
    const dir = await clone(undefined, 'anon-push')
    await commit(dir, 'c.txt', 'c\n')
    const r1 = await push(dir, 'HEAD:refs/heads/anon')
    expect(r1.ok).toBe(false)
    expect(r1.stderr).toMatch(/Authentication failed|could not read Username|terminal prompts disabled/)
    await git(['remote', 'set-url', 'origin', forge.gitUrl('org', 'tasks', 'tok-bob')], { cwd: dir })
    const r2 = await push(dir, 'HEAD:refs/heads/bob')
    expect(r2.ok).toBe(false)
    expect(r2.stderr).toMatch(/403|denied/)
    await git(['remote', 'set-url', 'origin', forge.gitUrl('org', 'tasks', 'wrong')], { cwd: dir })
    expect((await push(dir, 'HEAD:refs/heads/x')).ok).toBe(false)
    expect(forge.state.repo('org', 'tasks').branches.has('bob')).toBe(false)
  })

  it('refuses a non-fast-forward push, accepts a fast-forward one', async () => {
    const a = await clone('tok-alice', 'nff-a')
    const b = await clone('tok-alice', 'nff-b')
    await commit(a, 'a.txt', 'from a\n')
    expect((await push(a, 'HEAD:refs/heads/main')).ok).toBe(true)
    await commit(b, 'b-side.txt', 'from b\n')
    const r = await push(b, 'HEAD:refs/heads/main')
    expect(r.ok).toBe(false)
    expect(r.stderr).toMatch(/rejected|non-fast-forward|fetch first/)
    // Even when the client claims the old value it saw (a lease), the server refuses a stale one.
    const stale = (await git(['rev-parse', 'origin/main'], { cwd: b })).stdout.trim()
    const r2 = await push(b, `--force-with-lease=main:${stale}`, 'HEAD:refs/heads/main')
    expect(r2.ok).toBe(false)
    await git(['pull', '--quiet', '--rebase', 'origin', 'main'], { cwd: b, env: ID })
    expect((await push(b, 'HEAD:refs/heads/main')).ok).toBe(true)
  })

  it('refuses force pushes on a repository that protects its branches', async () => {
    await forge.addRepo({ owner: 'org', name: 'protected', files: { f: '1\n' }, permissions: { alice: 'write' }, denyForcePush: true })
    const dir = await clone('tok-alice', 'prot', 'org', 'protected')
    await git(['commit', '--quiet', '--amend', '-m', 'rewritten'], { cwd: dir, env: ID })
    const r = await push(dir, '--force', 'HEAD:refs/heads/main')
    expect(r.ok).toBe(false)
    expect(r.stderr).toMatch(/non-fast-forward|denied|rejected/)
  })

  it('twenty clients pushing the same new branch at once give exactly one winner', async () => {
    const dirs = await Promise.all(Array.from({ length: 20 }, async (_, i) => await clone('tok-alice', `race-${i}`)))
    const shas = await Promise.all(dirs.map(async (d, i) => await commit(d, 'race.txt', `client ${i}\n`)))
    const results = await Promise.all(dirs.map(async (d) => await push(d, 'HEAD:refs/heads/claim')))
    const winners = results.map((r, i) => r.ok ? i : -1).filter((i) => i >= 0)
    expect(winners).toHaveLength(1)
    const winner = winners[0] ?? -1
    const head = (await git(['rev-parse', 'refs/heads/claim'], { cwd: forge.repoPath('org', 'tasks') })).stdout.trim()
    expect(head).toBe(shas[winner])
    expect(forge.state.repo('org', 'tasks').branches.get('claim')).toBe(shas[winner])
  }, 120_000)

  it('a push moves the head of a pull request within one repository', async () => {
    const alice = client(forge.url, 'tok-alice')
    const dir = await clone('tok-alice', 'same-repo-pr')
    await git(['checkout', '--quiet', '-b', 'same'], { cwd: dir })
    await commit(dir, 'same.txt', '1\n')
    expect((await push(dir, 'same')).ok).toBe(true)
    const pr = await alice.rest.pulls.create({ owner: 'org', repo: 'tasks', title: 'same', head: 'same', base: 'main' })
    const second = await commit(dir, 'same.txt', '2\n')
    expect((await push(dir, 'same')).ok).toBe(true)
    expect((await alice.rest.pulls.get({ owner: 'org', repo: 'tasks', pull_number: pr.data.number })).data.head.sha).toBe(second)
    const pullHead = (await git(['rev-parse', `refs/pull/${pr.data.number}/head`], { cwd: forge.repoPath('org', 'tasks') })).stdout.trim()
    expect(pullHead).toBe(second)
  })

  it('isomorphic-git clones, commits and pushes; a non-fast-forward push is refused', async () => {
    const dir = join(work, 'iso')
    const url = forge.gitUrl('org', 'tasks')
    const onAuth = (): { username: string, password: string } => ({ username: 'x-access-token', password: 'tok-alice' })
    await isogit.clone({ fs, http, dir, url, ref: 'main', singleBranch: true, onAuth })
    await isogit.branch({ fs, dir, ref: 'iso-branch', checkout: true })
    await writeFile(join(dir, 'iso.txt'), 'iso\n')
    await isogit.add({ fs, dir, filepath: 'iso.txt' })
    const sha = await isogit.commit({ fs, dir, message: 'from isomorphic-git', author: { name: 'Iso', email: 'iso@example.com' } })
    const res = await isogit.push({ fs, http, dir, url, ref: 'iso-branch', onAuth })
    expect(res.ok).toBe(true)
    expect(forge.state.repo('org', 'tasks').branches.get('iso-branch')).toBe(sha)
    // Rewrite history and push without force: refused.
    await writeFile(join(dir, 'iso.txt'), 'other\n')
    await isogit.add({ fs, dir, filepath: 'iso.txt' })
    const parent = (await isogit.log({ fs, dir, depth: 2 }))[1]?.oid
    await isogit.commit({ fs, dir, message: 'diverged', author: { name: 'Iso', email: 'iso@example.com' }, parent: parent != null ? [parent] : [] })
    await expect(isogit.push({ fs, http, dir, url, ref: 'iso-branch', onAuth })).rejects.toThrow(/fast-forward|PushRejected/i)
    expect(forge.state.repo('org', 'tasks').branches.get('iso-branch')).toBe(sha)
  })

  it('serves a fork only once its delay has passed; its owner pushes to it; pushes move the pull request head', async () => {
    const carol = client(forge.url, 'tok-carol')
    await carol.rest.repos.createFork({ owner: 'org', repo: 'tasks' })
    await expect(git(['ls-remote', forge.gitUrl('carol', 'tasks')])).rejects.toThrow(/not found|404/i)
    await waitFor(async () => {
      try {
        await git(['ls-remote', forge.gitUrl('carol', 'tasks')])
        return true
      } catch { return false }
    }, 20_000, 'fork git ready')
    const dir = await clone('tok-carol', 'carol-fork', 'carol', 'tasks')
    await git(['checkout', '--quiet', '-b', 'fix'], { cwd: dir })
    await commit(dir, 'fix.txt', '1\n')
    expect((await push(dir, 'fix')).ok).toBe(true)
    // carol is only triage on org/tasks: she cannot push there.
    await git(['remote', 'add', 'upstream', forge.gitUrl('org', 'tasks', 'tok-carol')], { cwd: dir })
    await expect(git(['push', 'upstream', 'fix'], { cwd: dir })).rejects.toThrow(/403|denied/)
    const pr = await carol.rest.pulls.create({ owner: 'org', repo: 'tasks', title: 'fix', head: 'carol:fix', base: 'main' })
    const second = await commit(dir, 'fix.txt', '2\n')
    expect((await push(dir, 'fix')).ok).toBe(true)
    const after = await carol.rest.pulls.get({ owner: 'org', repo: 'tasks', pull_number: pr.data.number })
    expect(after.data.head.sha).toBe(second)
    const pullHead = (await git(['ls-remote', forge.gitUrl('org', 'tasks'), `refs/pull/${pr.data.number}/head`])).stdout
    expect(pullHead.split('\t')[0]).toBe(second)
    // refs/pull/* cannot be pushed to.
    const up = await clone('tok-alice', 'pull-ref-push')
    await expect(git(['push', 'origin', `HEAD:refs/pull/${pr.data.number}/head`], { cwd: up })).rejects.toThrow()
  })

  it('a pull request from one fork into a sibling fork: opened, and its head moves with a push', async () => {
    // A parent reads its own forks' objects; a sibling fork does not: dave's commits are fetched
    // into carol's fork when the pull request opens and when its head moves.
    const carol = client(forge.url, 'tok-carol')
    await carol.rest.repos.createFork({ owner: 'org', repo: 'tasks' })
    await waitFor(() => forge.state.repo('carol', 'tasks').gitReady, 20_000, 'carol fork ready')
    const carolDir = await clone('tok-carol', 'carol-sibling', 'carol', 'tasks')
    await git(['checkout', '--quiet', '-b', 'mine'], { cwd: carolDir })
    const carols = await commit(carolDir, 'mine.txt', 'carol\n')
    expect((await push(carolDir, 'mine')).ok).toBe(true)
    const dave = client(forge.url, 'tok-dave')
    await dave.rest.repos.createFork({ owner: 'org', repo: 'tasks' })
    await waitFor(() => forge.state.repo('dave', 'tasks').gitReady, 20_000, 'dave fork ready')
    // A new fork holds its parent's branches, not what the parent borrows from earlier forks.
    const seen = await git(['cat-file', '-e', `${carols}^{commit}`], { cwd: forge.repoPath('dave', 'tasks'), okCodes: [1, 128] })
    expect(seen.code).not.toBe(0)
    const dir = await clone('tok-dave', 'dave-fork', 'dave', 'tasks')
    await git(['checkout', '--quiet', '-b', 'far'], { cwd: dir })
    const first = await commit(dir, 'far.txt', '1\n')
    expect((await push(dir, 'far')).ok).toBe(true)
    const pr = await dave.rest.pulls.create({ owner: 'carol', repo: 'tasks', title: 'far', head: 'dave:far', base: 'main' })
    const pullHead = async (): Promise<string> => (await git(['rev-parse', `refs/pull/${pr.data.number}/head`], { cwd: forge.repoPath('carol', 'tasks') })).stdout.trim()
    expect(await pullHead()).toBe(first)
    expect((await dave.rest.pulls.listCommits({ owner: 'carol', repo: 'tasks', pull_number: pr.data.number })).data.map((c) => c.sha)).toEqual([first])
    const second = await commit(dir, 'far.txt', '2\n')
    expect((await push(dir, 'far')).ok).toBe(true)
    expect(await pullHead()).toBe(second)
  })
})
