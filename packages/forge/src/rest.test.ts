import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createForge } from './forge.js'
import type { Forge, RequestEvent } from './forge.js'
import { baseInit, client, waitFor } from './test-utils.js'
import type { RestClient, HttpError } from './test-utils.js'
import { isHttpError, paginateAll } from './test-utils.js'

const repo = { owner: 'org', repo: 'tasks' }

async function status (p: Promise<unknown>): Promise<number> {
  try {
    await p
    return 0
  } catch (err) {
    if (isHttpError(err)) return err.status
    throw err
  }
}

async function failure (p: Promise<unknown>): Promise<HttpError> {
  try {
    await p
  } catch (err) {
    if (isHttpError(err)) return err
    throw err
  }
  throw new Error('expected the request to fail')
}

describe('REST API through @octokit/core + plugin-rest-endpoint-methods', () => {
  let forge: Forge
  let alice: RestClient
  let bob: RestClient
  let carol: RestClient
  let olga: RestClient

  beforeAll(async () => {
    forge = await createForge(baseInit({ forkDelayMs: 300 }))
    alice = client(forge.url, 'tok-alice')
    bob = client(forge.url, 'tok-bob')
    carol = client(forge.url, 'tok-carol')
    olga = client(forge.url, 'tok-olga')
  })
  afterAll(async () => { await forge.close() })

  it('identifies the token (GET /user) and refuses bad ones', async () => {
    const seen: RequestEvent[] = []
    const listener = (e: RequestEvent): void => { seen.push(e) }
    forge.events.on('request', listener)
    expect((await alice.rest.users.getAuthenticated()).data).toMatchObject({ login: 'alice', name: 'Alice', email: 'alice@example.com', type: 'User' })
    expect(await status(client(forge.url, 'nope').rest.users.getAuthenticated())).toBe(401)
    expect(await status(client(forge.url).rest.users.getAuthenticated())).toBe(401)
    expect((await alice.rest.users.getByUsername({ username: 'org' })).data.type).toBe('Organization')
    forge.events.off('request', listener)
    expect(seen.map((e) => [e.method, e.path, e.status, e.login])).toEqual([
      ['GET', '/user', 200, 'alice'], ['GET', '/user', 401, null], ['GET', '/user', 401, null], ['GET', '/users/org', 200, 'alice']
    ])
  })

  it('refuses bodies beyond 25 MB with 413', async () => {
    const res = await fetch(`${forge.url}/repos/org/tasks/issues`, {
      method: 'POST', headers: { authorization: 'token tok-alice', 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'big', body: 'x'.repeat(26 * 1024 * 1024) })
    })
    expect(res.status).toBe(413)
  })

  it('reports the rate limit without counting it (GET /rate_limit)', async () => {
    const a = await alice.rest.rateLimit.get()
    const b = await alice.rest.rateLimit.get()
    expect(a.data.resources.core.limit).toBe(5000)
    expect(b.data.resources.core.remaining).toBe(a.data.resources.core.remaining)
  })

  it('serves the repository with the caller\'s permissions', async () => {
    const { data } = await alice.rest.repos.get(repo)
    expect(data).toMatchObject({ full_name: 'org/tasks', default_branch: 'main', fork: false, permissions: { push: true, admin: false } })
    expect((await bob.rest.repos.get(repo)).data.permissions).toMatchObject({ push: false, triage: false, pull: true })
    expect((await olga.rest.repos.get(repo)).data.permissions).toMatchObject({ admin: true })
    expect(await status(alice.rest.repos.get({ owner: 'org', repo: 'nope' }))).toBe(404)
  })

  it('numbers issues and pull requests in one sequence and lists both', async () => {
    const created = await alice.rest.issues.create({ ...repo, title: 'third', labels: ['bzzz'] })
    expect(created.status).toBe(201)
    expect(created.data.number).toBe(3)
    expect(created.data.author_association).toBe('MEMBER')
    expect((await olga.rest.issues.create({ ...repo, title: 'by org owner' })).data.author_association).toBe('OWNER')
    expect((await bob.rest.issues.create({ ...repo, title: 'by collaborator' })).data.author_association).toBe('COLLABORATOR')
    expect((await client(forge.url, 'tok-dave').rest.issues.create({ ...repo, title: 'by stranger' })).data.author_association).toBe('NONE')
    const got = await bob.rest.issues.get({ ...repo, issue_number: 3 })
    expect(got.data.title).toBe('third')
    expect(await status(bob.rest.issues.get({ ...repo, issue_number: 999 }))).toBe(404)
    expect(await status(alice.rest.issues.create({ ...repo, title: '' }))).toBe(422)
  })

  it('the Date header comes from the same clock as the timestamps (an injected `now`)', async () => {
    const skewed = await createForge(baseInit({ now: () => Date.now() - 3 * 3600_000 }))
    try {
      const res = await client(skewed.url, 'tok-alice').rest.issues.get({ owner: 'org', repo: 'tasks', issue_number: 1 })
      const date = Date.parse(String(res.headers.date))
      expect(Math.abs(date - Date.parse(res.data.updated_at))).toBeLessThan(60_000)
    } finally {
      await skewed.close()
    }
  })

  it('addRepo() with an aborted signal creates nothing', async () => {
    await expect(forge.addRepo({ owner: 'org', name: 'never' }, { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' })
    expect(forge.state.findRepo('org', 'never')).toBeUndefined()
  })

  it('filters issue lists by state, labels (all must match), assignee, since, sort and direction', async () => {
    const r = { owner: 'org', repo: 'filters' }
    await forge.addRepo({ owner: 'org', name: 'filters', permissions: { alice: 'write', bob: 'read' }, labels: ['a', 'b'] })
    const n1 = (await alice.rest.issues.create({ ...r, title: '1', labels: ['a'] })).data.number
    const n2 = (await alice.rest.issues.create({ ...r, title: '2', labels: ['a', 'b'], assignees: ['alice'] })).data.number
    const n3 = (await alice.rest.issues.create({ ...r, title: '3' })).data.number
    await alice.rest.issues.update({ ...r, issue_number: n3, state: 'closed' })
    const nums = async (q: Record<string, string | number>): Promise<number[]> =>
      (await alice.request('GET /repos/{owner}/{repo}/issues', { ...r, ...q })).data.map((i: { number: number }) => i.number)
    expect(await nums({})).toEqual([n2, n1])
    expect(await nums({ state: 'closed' })).toEqual([n3])
    expect(await nums({ state: 'all', direction: 'asc' })).toEqual([n1, n2, n3])
    expect(await nums({ labels: 'a' })).toEqual([n2, n1])
    expect(await nums({ labels: 'A,b' })).toEqual([n2])
    expect(await nums({ assignee: 'none', state: 'all' })).toEqual([n3, n1])
    expect(await nums({ assignee: '*' })).toEqual([n2])
    expect(await nums({ assignee: 'alice' })).toEqual([n2])
    expect(await nums({ assignee: 'bob' })).toEqual([])
    // n3 was updated last (closed); sort=updated puts it first.
    expect(await nums({ state: 'all', sort: 'updated' })).toEqual([n3, n2, n1])
    expect(await nums({ since: new Date(Date.now() + 3_600_000).toISOString() })).toEqual([])
    expect(await nums({ since: new Date(Date.now() - 3_600_000).toISOString(), state: 'all' })).toHaveLength(3)
  })

  it('paginates with Link headers and per_page capped at 100', async () => {
    await forge.addRepo({ owner: 'org', name: 'many', permissions: { alice: 'write' } })
    for (let i = 0; i < 105; i++) forge.createIssue('org', 'many', { title: `i${i}`, author: 'alice' })
    const first = await alice.rest.issues.listForRepo({ owner: 'org', repo: 'many', per_page: 500 })
    expect(first.data).toHaveLength(100)
    expect(first.headers.link).toMatch(/page=2>; rel="next"/)
    expect(first.headers.link).toMatch(/rel="last"/)
    const all = await paginateAll<{ number: number }>(alice, 'GET /repos/{owner}/{repo}/issues', { owner: 'org', repo: 'many', per_page: 30 })
    expect(all.map((i) => i.number)).toEqual(Array.from({ length: 105 }, (_, i) => 105 - i))
  })

  it('marks pull requests in issue lists with a pull_request key', async () => {
    await alice.rest.git.createRef({ ...repo, ref: 'refs/heads/pr-mark', sha: (await alice.rest.git.getRef({ ...repo, ref: 'heads/main' })).data.object.sha })
    // Nothing to merge yet: same commit as main.
    const e = await failure(alice.rest.pulls.create({ ...repo, title: 'x', head: 'pr-mark', base: 'main' }))
    expect(e.status).toBe(422)
    expect(JSON.stringify(e.response?.data)).toMatch(/No commits between main and pr-mark/)
  })

  it('answers 304 to If-None-Match without lowering x-ratelimit-remaining', async () => {
    const first = await alice.rest.issues.listForRepo(repo)
    const etag = first.headers.etag
    expect(etag).toBeTruthy()
    const before = Number((await alice.rest.rateLimit.get()).data.resources.core.remaining)
    const e = await failure(alice.rest.issues.listForRepo({ ...repo, headers: { 'if-none-match': etag } }))
    expect(e.status).toBe(304)
    expect(Number(e.response?.headers['x-ratelimit-remaining'])).toBe(before)
    expect(Number((await alice.rest.rateLimit.get()).data.resources.core.remaining)).toBe(before)
    // A change to the listing changes the ETag.
    await alice.rest.issues.createComment({ ...repo, issue_number: 1, body: 'bump' })
    expect((await alice.rest.issues.listForRepo({ ...repo, headers: { 'if-none-match': etag } })).status).toBe(200)
  })

  it('refuses conditional headers on writes with 400', async () => {
    const e = await failure(alice.rest.issues.update({ ...repo, issue_number: 1, title: 'x', headers: { 'if-match': '"abc"' } }))
    expect(e.status).toBe(400)
    expect(e.message).toMatch(/Conditional request headers are not allowed/)
    expect((await alice.rest.issues.get({ ...repo, issue_number: 1 })).data.title).toBe('first')
  })

  it('adds assignees as a union of at most 10, dropping those without push access (201)', async () => {
    const users = Array.from({ length: 12 }, (_, i) => `w${i}`)
    for (const u of users) forge.addUser({ login: u })
    const r = { owner: 'org', repo: 'assign' }
    await forge.addRepo({ owner: 'org', name: 'assign', permissions: Object.fromEntries([...users.map((u) => [u, 'write'] as const), ['alice', 'write'], ['bob', 'read'], ['carol', 'triage']]) })
    const n = (await alice.rest.issues.create({ ...r, title: 'a' })).data.number
    const res = await alice.rest.issues.addAssignees({ ...r, issue_number: n, assignees: ['bob', 'carol', 'alice'] })
    expect(res.status).toBe(201)
    expect(res.data.assignees?.map((a) => a.login)).toEqual(['alice'])
    await alice.rest.issues.addAssignees({ ...r, issue_number: n, assignees: ['w0', 'alice'] })
    const many = await alice.rest.issues.addAssignees({ ...r, issue_number: n, assignees: users })
    expect(many.data.assignees?.map((a) => a.login)).toEqual(['alice', 'w0', ...users.slice(1, 9)])
    const removed = await alice.rest.issues.removeAssignees({ ...r, issue_number: n, assignees: ['w0'] })
    expect(removed.data.assignees).toHaveLength(9)
    // A read user's request is silently ignored.
    await bob.rest.issues.addAssignees({ ...r, issue_number: n, assignees: ['w11'] })
    expect((await bob.rest.issues.get({ ...r, issue_number: n })).data.assignees).toHaveLength(9)
    // A PATCH replaces the whole list.
    const patched = await carol.rest.issues.update({ ...r, issue_number: n, assignees: ['w5', 'bob'] })
    expect(patched.data.assignees?.map((a) => a.login)).toEqual(['w5'])
    expect(patched.data.assignee?.login).toBe('w5')
    expect((await alice.request('GET /repos/{owner}/{repo}/assignees/{assignee}', { ...r, assignee: 'w5' })).status).toBe(204)
    expect(await status(alice.request('GET /repos/{owner}/{repo}/assignees/{assignee}', { ...r, assignee: 'bob' }))).toBe(404)
  })

  it('adds, sets and removes labels; a PATCH replaces them; read users cannot', async () => {
    const n = (await alice.rest.issues.create({ ...repo, title: 'labels' })).data.number
    const added = await alice.rest.issues.addLabels({ ...repo, issue_number: n, labels: ['bzzz', 'new-one'] })
    expect(added.data.map((l) => l.name)).toEqual(['bzzz', 'new-one'])
    expect((await alice.rest.issues.getLabel({ ...repo, name: 'new-one' })).data.color).toBe('ededed')
    const set = await carol.rest.issues.setLabels({ ...repo, issue_number: n, labels: ['bug'] })
    expect(set.data.map((l) => l.name)).toEqual(['bug'])
    const patched = await alice.rest.issues.update({ ...repo, issue_number: n, labels: ['bzzz', 'bug'] })
    expect(patched.data.labels.map((l) => typeof l === 'string' ? l : l.name)).toEqual(['bzzz', 'bug'])
    const removed = await alice.rest.issues.removeLabel({ ...repo, issue_number: n, name: 'bzzz' })
    expect(removed.data.map((l) => l.name)).toEqual(['bug'])
    expect(await status(alice.rest.issues.removeLabel({ ...repo, issue_number: n, name: 'bzzz' }))).toBe(404)
    expect(await status(bob.rest.issues.addLabels({ ...repo, issue_number: n, labels: ['bzzz'] }))).toBe(403)
    const lab = await alice.rest.issues.createLabel({ ...repo, name: 'urgent', color: 'ff0000' })
    expect(lab.status).toBe(201)
    expect(await status(alice.rest.issues.createLabel({ ...repo, name: 'URGENT', color: 'ff0000' }))).toBe(422)
    expect((await alice.rest.issues.listLabelsForRepo(repo)).data.map((l) => l.name)).toContain('urgent')
    // A read user's labels on a new issue are dropped silently.
    expect((await bob.rest.issues.create({ ...repo, title: 'x', labels: ['bug'] })).data.labels).toEqual([])
  })

  it('closes and reopens with state_reason; only the author or triage+ may edit', async () => {
    const n = (await bob.rest.issues.create({ ...repo, title: 'mine' })).data.number
    const closed = await bob.rest.issues.update({ ...repo, issue_number: n, state: 'closed', state_reason: 'not_planned' })
    expect(closed.data).toMatchObject({ state: 'closed', state_reason: 'not_planned' })
    expect(closed.data.closed_at).not.toBeNull()
    expect(closed.data.closed_by?.login).toBe('bob')
    const reopened = await carol.rest.issues.update({ ...repo, issue_number: n, state: 'open' })
    expect(reopened.data).toMatchObject({ state: 'open', state_reason: 'reopened', closed_at: null })
    expect(await status(client(forge.url, 'tok-dave').rest.issues.update({ ...repo, issue_number: n, title: 'hijack' }))).toBe(403)
  })

  it('creates, edits and deletes comments with increasing ids', async () => {
    const a = await alice.rest.issues.createComment({ ...repo, issue_number: 2, body: 'one' })
    const b = await bob.rest.issues.createComment({ ...repo, issue_number: 2, body: 'two' })
    expect(b.data.id).toBeGreaterThan(a.data.id)
    expect(b.data.created_at >= a.data.created_at).toBe(true)
    expect((await alice.rest.issues.get({ ...repo, issue_number: 2 })).data.comments).toBe(2)
    const edited = await alice.rest.issues.updateComment({ ...repo, comment_id: a.data.id, body: 'uno' })
    expect(edited.data.body).toBe('uno')
    const got = await alice.rest.issues.getComment({ ...repo, comment_id: a.data.id })
    expect(got.headers.etag).toBe(edited.headers.etag)
    expect(await status(bob.rest.issues.updateComment({ ...repo, comment_id: a.data.id, body: 'mine now' }))).toBe(403)
    expect((await alice.rest.issues.deleteComment({ ...repo, comment_id: b.data.id })).status).toBe(204)
    expect(await status(alice.rest.issues.getComment({ ...repo, comment_id: b.data.id }))).toBe(404)
    const list = await alice.rest.issues.listComments({ ...repo, issue_number: 2 })
    expect(list.data.map((c) => c.body)).toEqual(['uno'])
    expect((await alice.rest.issues.listComments({ ...repo, issue_number: 2, since: new Date(Date.now() + 60_000).toISOString() })).data).toEqual([])
    expect((await alice.rest.issues.listCommentsForRepo(repo)).data.length).toBeGreaterThan(0)
  })

  it('gives twenty concurrent comments twenty distinct, strictly increasing ids', async () => {
    const clients = Array.from({ length: 20 }, () => client(forge.url, 'tok-alice'))
    const ids = await Promise.all(clients.map(async (c, i) => (await c.rest.issues.createComment({ ...repo, issue_number: 1, body: `c${i}` })).data.id))
    expect(new Set(ids).size).toBe(20)
    const listed = (await paginateAll<{ id: number }>(alice, 'GET /repos/{owner}/{repo}/issues/{issue_number}/comments', { ...repo, issue_number: 1, per_page: 7 })).map((c) => c.id)
    for (let i = 1; i < listed.length; i++) expect(listed[i]).toBeGreaterThan(listed[i - 1] ?? Infinity)
    expect(listed).toEqual(expect.arrayContaining(ids))
  })

  it('creates refs atomically and reads branches and refs', async () => {
    const main = await alice.rest.repos.getBranch({ ...repo, branch: 'main' })
    expect(main.data.commit.commit.message).toBe('Initial commit\n')
    const sha = main.data.commit.sha
    const results = await Promise.all(Array.from({ length: 10 }, async () =>
      await status(client(forge.url, 'tok-alice').rest.git.createRef({ ...repo, ref: 'refs/heads/race', sha }))))
    expect(results.filter((s) => s === 0)).toHaveLength(1)
    expect(results.filter((s) => s === 422)).toHaveLength(9)
    expect((await alice.rest.git.getRef({ ...repo, ref: 'heads/race' })).data.object.sha).toBe(sha)
    expect(await status(bob.rest.git.createRef({ ...repo, ref: 'refs/heads/bob', sha }))).toBe(403)
    expect(await status(alice.rest.git.getRef({ ...repo, ref: 'heads/none' }))).toBe(404)
    expect((await alice.rest.repos.listBranches(repo)).data.map((b) => b.name)).toContain('race')
  })

  it('forks with 202, idempotently, with git appearing after the delay', async () => {
    const first = await bob.rest.repos.createFork(repo)
    expect(first.status).toBe(202)
    expect(first.data).toMatchObject({ full_name: 'bob/tasks', fork: true, default_branch: 'main', clone_url: `${forge.url}/bob/tasks.git` })
    expect(first.data.parent?.full_name).toBe('org/tasks')
    expect(await status(bob.rest.git.getRef({ owner: 'bob', repo: 'tasks', ref: 'heads/main' }))).toBe(404)
    const again = await bob.rest.repos.createFork(repo)
    expect(again.status).toBe(202)
    expect(again.data.id).toBe(first.data.id)
    await waitFor(async () => (await status(bob.rest.git.getRef({ owner: 'bob', repo: 'tasks', ref: 'heads/main' }))) === 0, 20_000, 'fork ready')
    expect((await bob.rest.repos.get({ owner: 'bob', repo: 'tasks' })).data.size).toBeGreaterThan(0)
    expect((await bob.rest.repos.listForks(repo)).data.map((f) => f.full_name)).toEqual(['bob/tasks'])
  })

  it('opens pull requests across a fork; 422 for a duplicate; follows PATCH', async () => {
    await forge.settled()
    const main = (await bob.rest.git.getRef({ owner: 'bob', repo: 'tasks', ref: 'heads/main' })).data.object.sha
    // Make a commit in bob's fork through the git layer (a push is covered in git.test.ts).
    const { git } = await import('./git.js')
    const path = forge.repoPath('bob', 'tasks')
    const tree = (await git(['rev-parse', `${main}^{tree}`], { cwd: path })).stdout.trim()
    const commit = (await git(['commit-tree', tree, '-p', main, '-m', 'work'], { cwd: path, env: { GIT_AUTHOR_NAME: 'b', GIT_AUTHOR_EMAIL: 'b@x', GIT_COMMITTER_NAME: 'b', GIT_COMMITTER_EMAIL: 'b@x' } })).stdout.trim()
    await bob.rest.git.createRef({ owner: 'bob', repo: 'tasks', ref: 'refs/heads/feature', sha: commit })
    const pr = await bob.rest.pulls.create({ ...repo, title: 'Feature', head: 'bob:feature', base: 'main', body: 'Fixes #1' })
    expect(pr.status).toBe(201)
    expect(pr.data).toMatchObject({ state: 'open', head: { label: 'bob:feature', sha: commit, ref: 'feature' }, base: { ref: 'main', sha: main } })
    const { stdout } = await git(['rev-parse', `refs/pull/${pr.data.number}/head`], { cwd: forge.repoPath('org', 'tasks') })
    expect(stdout.trim()).toBe(commit)
    const dup = await failure(bob.rest.pulls.create({ ...repo, title: 'again', head: 'bob:feature', base: 'main' }))
    expect(dup.status).toBe(422)
    expect((dup.response?.data as { errors: Array<{ message: string }> }).errors[0]?.message).toBe('A pull request already exists for bob:feature.')
    expect(await status(bob.rest.pulls.create({ ...repo, title: 'x', head: 'bob:nope', base: 'main' }))).toBe(422)
    const listed = await alice.rest.pulls.list({ ...repo, head: 'bob:feature', state: 'all' })
    expect(listed.data.map((p) => p.number)).toEqual([pr.data.number])
    expect((await alice.rest.pulls.list({ ...repo, head: 'alice:feature' })).data).toEqual([])
    const issues = await alice.rest.issues.listForRepo({ ...repo, per_page: 100 })
    expect(issues.data.find((i) => i.number === pr.data.number)?.pull_request).toBeDefined()
    expect(issues.data.find((i) => i.number === 1)?.pull_request).toBeUndefined()
    const closed = await bob.rest.pulls.update({ ...repo, pull_number: pr.data.number, state: 'closed' })
    expect(closed.data.state).toBe('closed')
    expect((await alice.rest.pulls.get({ ...repo, pull_number: pr.data.number })).data.state).toBe('closed')
    // Once closed, a new pull request from the same head is allowed.
    expect((await bob.rest.pulls.create({ ...repo, title: 'again', head: 'bob:feature', base: 'main' })).status).toBe(201)
  })
})
