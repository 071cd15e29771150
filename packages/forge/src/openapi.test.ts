/**
 * Fidelity: every kind of response the forge gives is validated against GitHub's own
 * OpenAPI description (`generated/api.github.com.json` of @octokit/openapi).
 */
import { readFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { Server } from 'node:http'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { Ajv } from 'ajv'
import type { ValidateFunction } from 'ajv'
import formatsModule from 'ajv-formats'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createForge } from './forge.js'
import type { Forge } from './forge.js'
import { git } from './git.js'
import { baseInit, waitFor } from './test-utils.js'

type Schema = Record<string, unknown>
interface Spec {
  'x-webhooks': Record<string, { post: { requestBody: { content: Record<string, { schema: Schema }> } } }>
  paths: Record<string, Record<string, { responses: Record<string, { $ref?: string, content?: Record<string, { schema?: Schema }> }> }>>
  components: { schemas: Record<string, Schema>, responses: Record<string, { content?: Record<string, { schema?: Schema }> }> }
}

/** OpenAPI 3.0 `nullable: true` -> JSON Schema type unions; `#/…` refs -> `gh#/…`. */
function rewrite (node: unknown): void {
  if (Array.isArray(node)) { node.forEach(rewrite); return }
  if (node == null || typeof node !== 'object') return
  const o = node as Record<string, unknown>
  for (const v of Object.values(o)) rewrite(v)
  if (typeof o.$ref === 'string' && o.$ref.startsWith('#/')) o.$ref = `gh${o.$ref}`
  if (o.nullable === true) {
    delete o.nullable
    if (typeof o.type === 'string') {
      o.type = [o.type, 'null']
      if (Array.isArray(o.enum) && !o.enum.includes(null)) o.enum.push(null)
    } else {
      const inner = { ...o }
      for (const k of Object.keys(o)) delete o[k]
      o.anyOf = [inner, { type: 'null' }]
    }
  }
}

const addFormats = ((formatsModule as unknown as { default?: unknown }).default ?? formatsModule) as (ajv: Ajv) => Ajv

describe('responses match GitHub\'s OpenAPI description', () => {
  let spec: Spec
  let ajv: Ajv
  let forge: Forge
  const cache = new Map<string, ValidateFunction>()
  const seen = new Set<string>()

  beforeAll(async () => {
    const dir = dirname(createRequire(import.meta.url).resolve('@octokit/openapi/package.json'))
    spec = JSON.parse(await readFile(join(dir, 'generated', 'api.github.com.json'), 'utf8')) as Spec
    rewrite(spec.components.schemas)
    ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false })
    addFormats(ajv)
    ajv.addSchema({ $id: 'gh', components: { schemas: spec.components.schemas } })
    forge = await createForge(baseInit())
  }, 120_000)
  afterAll(async () => { await forge?.close() })

  /** The schema GitHub documents for this operation and status (falling back to its error schemas). */
  function validator (method: string, template: string, status: number): ValidateFunction | undefined {
    const key = `${method} ${template} ${status}`
    const hit = cache.get(key)
    if (hit != null) return hit
    const op = spec.paths[template]?.[method.toLowerCase()]
    if (op == null) throw new Error(`no operation ${method} ${template} in the OpenAPI description`)
    let response = op.responses[String(status)]
    if (response?.$ref != null) response = spec.components.responses[response.$ref.split('/').pop() ?? '']
    let schema = response?.content?.['application/json']?.schema
    if (schema == null && status >= 400) schema = { $ref: `#/components/schemas/${status === 422 ? 'validation-error' : 'basic-error'}` }
    if (schema == null) return undefined
    const copy = structuredClone(schema)
    rewrite(copy)
    const v = ajv.compile(copy)
    cache.set(key, v)
    return v
  }

  async function check (method: string, template: string, params: Record<string, string | number>, expected: number, options: { token?: string | null, body?: unknown, query?: string, headers?: Record<string, string> } = {}): Promise<unknown> {
    const path = template.replace(/\{(\w+)\}/g, (_, k: string) => String(params[k] ?? `{${k}}`))
    const token = options.token === undefined ? 'tok-alice' : options.token
    const res = await fetch(`${forge.url}${path}${options.query ?? ''}`, {
      method,
      headers: {
        accept: 'application/vnd.github+json',
        ...(token != null ? { authorization: `Bearer ${token}` } : {}),
        ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...options.headers
      },
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {})
    })
    const text = await res.text()
    expect(res.status, `${method} ${path}: ${text.slice(0, 300)}`).toBe(expected)
    const body: unknown = text === '' ? undefined : JSON.parse(text)
    const v = validator(method, template, expected)
    if (v == null) {
      expect(text, `${method} ${template} ${expected} has no body on GitHub`).toBe('')
    } else {
      const ok = v(body)
      expect(ok, `${method} ${template} ${expected}: ${JSON.stringify(v.errors?.slice(0, 5), null, 1)}`).toBe(true)
    }
    seen.add(`${method} ${template} ${expected}`)
    return body
  }

  const R = { owner: 'org', repo: 'tasks' }

  it('users and the rate limit', async () => {
    await check('GET', '/user', {}, 200)
    await check('GET', '/user', {}, 401, { token: 'bad' })
    await check('GET', '/user', {}, 401, { token: null })
    await check('GET', '/users/{username}', { username: 'alice' }, 200)
    await check('GET', '/users/{username}', { username: 'org' }, 200)
    await check('GET', '/users/{username}', { username: 'ghost' }, 404)
    await check('GET', '/rate_limit', {}, 200)
  })

  it('repositories, branches, refs and forks', async () => {
    await check('GET', '/repos/{owner}/{repo}', R, 200)
    await check('GET', '/repos/{owner}/{repo}', { owner: 'org', repo: 'missing' }, 404)
    await check('GET', '/repos/{owner}/{repo}/branches', R, 200)
    const branch = await check('GET', '/repos/{owner}/{repo}/branches/{branch}', { ...R, branch: 'main' }, 200) as { commit: { sha: string } }
    await check('GET', '/repos/{owner}/{repo}/branches/{branch}', { ...R, branch: 'nope' }, 404)
    await check('GET', '/repos/{owner}/{repo}/git/ref/{ref}', { ...R, ref: 'heads/main' }, 200)
    await check('GET', '/repos/{owner}/{repo}/git/ref/{ref}', { ...R, ref: 'heads/nope' }, 404)
    await check('GET', '/repos/{owner}/{repo}/git/matching-refs/{ref}', { ...R, ref: 'heads/' }, 200)
    const sha = branch.commit.sha
    await check('POST', '/repos/{owner}/{repo}/git/refs', R, 201, { body: { ref: 'refs/heads/api', sha } })
    await check('POST', '/repos/{owner}/{repo}/git/refs', R, 422, { body: { ref: 'refs/heads/api', sha } })
    await check('PATCH', '/repos/{owner}/{repo}/git/refs/{ref}', { ...R, ref: 'heads/api' }, 200, { body: { sha } })
    await check('DELETE', '/repos/{owner}/{repo}/git/refs/{ref}', { ...R, ref: 'heads/api' }, 204)
    await check('POST', '/repos/{owner}/{repo}/forks', R, 202, { token: 'tok-bob', body: {} })
    await check('GET', '/repos/{owner}/{repo}/forks', R, 200)
    await check('GET', '/repos/{owner}/{repo}', { owner: 'bob', repo: 'tasks' }, 200)
    await check('GET', '/repos/{owner}/{repo}/collaborators/{username}/permission', { ...R, username: 'carol' }, 200)
    await check('GET', '/repos/{owner}/{repo}/assignees/{assignee}', { ...R, assignee: 'alice' }, 204)
    await check('GET', '/repos/{owner}/{repo}/assignees/{assignee}', { ...R, assignee: 'bob' }, 404)
  })

  it('issues, labels, assignees and comments', async () => {
    const list = await check('GET', '/repos/{owner}/{repo}/issues', R, 200, { query: '?state=all&labels=bzzz&per_page=1' }) as unknown[]
    expect(list).toHaveLength(1)
    const issue = await check('POST', '/repos/{owner}/{repo}/issues', R, 201, { body: { title: 'fidelity', body: 'b', labels: ['bzzz'], assignees: ['alice'] } }) as { number: number }
    const n = { ...R, issue_number: issue.number }
    await check('POST', '/repos/{owner}/{repo}/issues', R, 422, { body: { body: 'no title' } })
    await check('POST', '/repos/{owner}/{repo}/issues', R, 401, { token: null, body: { title: 'anon' } })
    await check('GET', '/repos/{owner}/{repo}/issues/{issue_number}', n, 200)
    await check('GET', '/repos/{owner}/{repo}/issues/{issue_number}', { ...R, issue_number: 9999 }, 404)
    await check('PATCH', '/repos/{owner}/{repo}/issues/{issue_number}', n, 200, { body: { state: 'closed' } })
    await check('PATCH', '/repos/{owner}/{repo}/issues/{issue_number}', n, 403, { token: 'tok-dave', body: { title: 'x' } })
    await check('PATCH', '/repos/{owner}/{repo}/issues/{issue_number}', n, 400, { body: { title: 'x' }, headers: { 'if-match': '"x"' } })
    await check('POST', '/repos/{owner}/{repo}/issues/{issue_number}/assignees', n, 201, { body: { assignees: ['alice', 'bob'] } })
    await check('DELETE', '/repos/{owner}/{repo}/issues/{issue_number}/assignees', n, 200, { body: { assignees: ['alice'] } })
    await check('GET', '/repos/{owner}/{repo}/labels', R, 200)
    await check('POST', '/repos/{owner}/{repo}/labels', R, 201, { body: { name: 'fid', color: 'abcdef', description: 'd' } })
    await check('POST', '/repos/{owner}/{repo}/labels', R, 422, { body: { name: 'fid' } })
    await check('GET', '/repos/{owner}/{repo}/labels/{name}', { ...R, name: 'fid' }, 200)
    await check('PATCH', '/repos/{owner}/{repo}/labels/{name}', { ...R, name: 'fid' }, 200, { body: { color: '123456' } })
    await check('GET', '/repos/{owner}/{repo}/issues/{issue_number}/labels', n, 200)
    await check('POST', '/repos/{owner}/{repo}/issues/{issue_number}/labels', n, 200, { body: { labels: ['fid'] } })
    await check('PUT', '/repos/{owner}/{repo}/issues/{issue_number}/labels', n, 200, { body: { labels: ['fid', 'bug'] } })
    await check('DELETE', '/repos/{owner}/{repo}/issues/{issue_number}/labels/{name}', { ...n, name: 'bug' }, 200)
    await check('DELETE', '/repos/{owner}/{repo}/issues/{issue_number}/labels/{name}', { ...n, name: 'bug' }, 404)
    await check('DELETE', '/repos/{owner}/{repo}/issues/{issue_number}/labels', n, 204)
    await check('DELETE', '/repos/{owner}/{repo}/labels/{name}', { ...R, name: 'fid' }, 204)
    const c = await check('POST', '/repos/{owner}/{repo}/issues/{issue_number}/comments', n, 201, { body: { body: 'hello' } }) as { id: number }
    await check('POST', '/repos/{owner}/{repo}/issues/{issue_number}/comments', n, 422, { body: {} })
    await check('GET', '/repos/{owner}/{repo}/issues/{issue_number}/comments', n, 200)
    await check('GET', '/repos/{owner}/{repo}/issues/comments', R, 200)
    await check('GET', '/repos/{owner}/{repo}/issues/comments/{comment_id}', { ...R, comment_id: c.id }, 200)
    await check('PATCH', '/repos/{owner}/{repo}/issues/comments/{comment_id}', { ...R, comment_id: c.id }, 200, { body: { body: 'edited' } })
    await check('PATCH', '/repos/{owner}/{repo}/issues/comments/{comment_id}', { ...R, comment_id: c.id }, 403, { token: 'tok-bob', body: { body: 'mine' } })
    await check('DELETE', '/repos/{owner}/{repo}/issues/comments/{comment_id}', { ...R, comment_id: c.id }, 204)
    await check('GET', '/repos/{owner}/{repo}/issues/comments/{comment_id}', { ...R, comment_id: c.id }, 404)
  })

  it('pull requests', async () => {
    await forge.settled()
    await waitFor(() => forge.state.repo('bob', 'tasks').gitReady, 20_000, 'fork')
    const path = forge.repoPath('bob', 'tasks')
    const main = (await git(['rev-parse', 'refs/heads/main'], { cwd: path })).stdout.trim()
    const tree = (await git(['rev-parse', `${main}^{tree}`], { cwd: path })).stdout.trim()
    const id = { GIT_AUTHOR_NAME: 'b', GIT_AUTHOR_EMAIL: 'b@x', GIT_COMMITTER_NAME: 'b', GIT_COMMITTER_EMAIL: 'b@x' }
    // The pull request's commit changes README.md, adds new.txt and removes src/a.txt.
    const blob = (await git(['hash-object', '-w', '--stdin'], { cwd: path, input: '# tasks, changed\nmore\n' })).stdout.trim()
    const added = (await git(['hash-object', '-w', '--stdin'], { cwd: path, input: 'new\n' })).stdout.trim()
    const listing = (await git(['ls-tree', tree], { cwd: path })).stdout.split('\n').filter((l) => l !== '' && !l.endsWith('\tsrc'))
      .map((l) => (l.endsWith('\tREADME.md') ? l.replace(/blob [0-9a-f]{40}/, `blob ${blob}`) : l))
    const changedTree = (await git(['mktree'], { cwd: path, input: [...listing, `100644 blob ${added}\tnew.txt`].join('\n') + '\n' })).stdout.trim()
    const sha = (await git(['commit-tree', changedTree, '-p', main, '-m', 'pr'], { cwd: path, env: id })).stdout.trim()
    void tree
    await check('POST', '/repos/{owner}/{repo}/git/refs', { owner: 'bob', repo: 'tasks' }, 201, { token: 'tok-bob', body: { ref: 'refs/heads/pr', sha } })
    const pr = await check('POST', '/repos/{owner}/{repo}/pulls', R, 201, { token: 'tok-bob', body: { title: 'PR', head: 'bob:pr', base: 'main', body: 'x' } }) as { number: number }
    await check('POST', '/repos/{owner}/{repo}/pulls', R, 422, { token: 'tok-bob', body: { title: 'PR', head: 'bob:pr', base: 'main' } })
    await check('GET', '/repos/{owner}/{repo}/pulls', R, 200, { query: '?state=all' })
    await check('GET', '/repos/{owner}/{repo}/pulls/{pull_number}', { ...R, pull_number: pr.number }, 200)
    await check('GET', '/repos/{owner}/{repo}/pulls/{pull_number}', { ...R, pull_number: 1 }, 404)
    await check('PATCH', '/repos/{owner}/{repo}/pulls/{pull_number}', { ...R, pull_number: pr.number }, 200, { token: 'tok-bob', body: { title: 'PR!' } })
    const files = await check('GET', '/repos/{owner}/{repo}/pulls/{pull_number}/files', { ...R, pull_number: pr.number }, 200) as Array<Record<string, unknown>>
    expect(files.map((f) => [f.filename, f.status, f.additions, f.deletions, f.changes])).toEqual([
      ['README.md', 'modified', 2, 1, 3], ['new.txt', 'added', 1, 0, 1], ['src/a.txt', 'removed', 0, 1, 1]
    ])
    expect(files[0]?.sha).toBe(blob)
    const commits = await check('GET', '/repos/{owner}/{repo}/pulls/{pull_number}/commits', { ...R, pull_number: pr.number }, 200) as Array<{ sha: string, parents: Array<{ sha: string }> }>
    expect(commits.map((c) => c.sha)).toEqual([sha])
    expect(commits[0]?.parents.map((p) => p.sha)).toEqual([main])
    await check('GET', '/repos/{owner}/{repo}/pulls/{pull_number}/files', { ...R, pull_number: 9999 }, 404)
    // The pull request as an issue, with its pull_request key.
    await check('GET', '/repos/{owner}/{repo}/issues/{issue_number}', { ...R, issue_number: pr.number }, 200)
    // A pull request that says it closes issue 1 is on that issue's timeline.
    await check('PATCH', '/repos/{owner}/{repo}/pulls/{pull_number}', { ...R, pull_number: pr.number }, 200, { token: 'tok-bob', body: { body: 'Closes #1' } })
    const timeline = await check('GET', '/repos/{owner}/{repo}/issues/{issue_number}/timeline', { ...R, issue_number: 1 }, 200) as Array<{ event: string, source: { issue: { number: number, pull_request?: unknown } } }>
    expect(timeline.map((e) => [e.event, e.source.issue.number, e.source.issue.pull_request !== undefined])).toEqual([['cross-referenced', pr.number, true]])
    await check('GET', '/repos/{owner}/{repo}/issues/{issue_number}/timeline', { ...R, issue_number: 9999 }, 404)
  })

  it('organisations, their members and repositories', async () => {
    const org = await check('GET', '/orgs/{org}', { org: 'org' }, 200) as { login: string, type: string, public_repos: number }
    expect(org).toMatchObject({ login: 'org', type: 'Organization' })
    expect(org.public_repos).toBeGreaterThanOrEqual(1)
    await check('GET', '/orgs/{org}', { org: 'nope' }, 404)
    await check('GET', '/orgs/{org}', { org: 'alice' }, 404)
    const members = await check('GET', '/orgs/{org}/members', { org: 'org' }, 200) as Array<{ login: string }>
    expect(members.map((m) => m.login).sort()).toEqual(['alice', 'olga'])
    const admins = await check('GET', '/orgs/{org}/members', { org: 'org' }, 200, { query: '?role=admin' }) as Array<{ login: string }>
    expect(admins.map((m) => m.login)).toEqual(['olga'])
    await check('GET', '/orgs/{org}/members/{username}', { org: 'org', username: 'alice' }, 204)
    await check('GET', '/orgs/{org}/members/{username}', { org: 'org', username: 'bob' }, 404)
    const repos = await check('GET', '/orgs/{org}/repos', { org: 'org' }, 200, { query: '?sort=full_name' }) as Array<{ full_name: string }>
    expect(repos.map((r) => r.full_name)).toContain('org/tasks')
    const own = await check('GET', '/users/{username}/repos', { username: 'bob' }, 200) as Array<{ full_name: string, fork: boolean }>
    expect(own.map((r) => r.full_name)).toEqual(['bob/tasks'])
    await check('GET', '/users/{username}/repos', { username: 'ghost' }, 404)
  })

  it('rate limits and faults', async () => {
    forge.burstRateLimit('secondary', 5_000)
    await check('GET', '/repos/{owner}/{repo}/issues', R, 403)
    forge.burstRateLimit('primary', 5_000)
    await check('GET', '/repos/{owner}/{repo}/issues', R, 403)
    forge.burstRateLimit('primary', 0)
    forge.setFaults({ errorRate: 1, errorStatuses: [503] })
    await check('GET', '/repos/{owner}/{repo}/issues', R, 503)
    forge.setFaults({ errorRate: 0 })
    expect(seen.size).toBeGreaterThanOrEqual(60)
  })

  it('webhook payloads match the x-webhooks schemas', async () => {
    const received: Array<{ event: string, body: Record<string, unknown> }> = []
    const receiver: Server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        received.push({ event: String(req.headers['x-github-event']), body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown> })
        res.writeHead(204).end()
      })
    })
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
    try {
      const a = receiver.address()
      const hookUrl = `http://127.0.0.1:${typeof a === 'object' && a != null ? a.port : 0}/`
      await forge.addRepo({ owner: 'org', name: 'hooked', files: { f: '1\n' }, permissions: { alice: 'write' }, labels: ['x'] })
      forge.addWebhook('org', 'hooked', { url: hookUrl, secret: 's' })
      const H = { owner: 'org', repo: 'hooked' }
      const issue = await check('POST', '/repos/{owner}/{repo}/issues', H, 201, { body: { title: 'hook' } }) as { number: number }
      const n = { ...H, issue_number: issue.number }
      await check('PATCH', '/repos/{owner}/{repo}/issues/{issue_number}', n, 200, { body: { title: 'hook!' } })
      await check('POST', '/repos/{owner}/{repo}/issues/{issue_number}/labels', n, 200, { body: { labels: ['x'] } })
      await check('DELETE', '/repos/{owner}/{repo}/issues/{issue_number}/labels/{name}', { ...n, name: 'x' }, 200)
      await check('POST', '/repos/{owner}/{repo}/issues/{issue_number}/assignees', n, 201, { body: { assignees: ['alice'] } })
      await check('DELETE', '/repos/{owner}/{repo}/issues/{issue_number}/assignees', n, 200, { body: { assignees: ['alice'] } })
      const c = await check('POST', '/repos/{owner}/{repo}/issues/{issue_number}/comments', n, 201, { body: { body: 'c' } }) as { id: number }
      await check('PATCH', '/repos/{owner}/{repo}/issues/comments/{comment_id}', { ...H, comment_id: c.id }, 200, { body: { body: 'c2' } })
      await check('DELETE', '/repos/{owner}/{repo}/issues/comments/{comment_id}', { ...H, comment_id: c.id }, 204)
      await check('PATCH', '/repos/{owner}/{repo}/issues/{issue_number}', n, 200, { body: { state: 'closed' } })
      await check('PATCH', '/repos/{owner}/{repo}/issues/{issue_number}', n, 200, { body: { state: 'open' } })
      const path = forge.repoPath('org', 'hooked')
      const main = (await git(['rev-parse', 'refs/heads/main'], { cwd: path })).stdout.trim()
      const tree = (await git(['rev-parse', `${main}^{tree}`], { cwd: path })).stdout.trim()
      const id = { GIT_AUTHOR_NAME: 'b', GIT_AUTHOR_EMAIL: 'b@example.com', GIT_COMMITTER_NAME: 'b', GIT_COMMITTER_EMAIL: 'b@example.com' }
      const sha = (await git(['commit-tree', tree, '-p', main, '-m', 'hook'], { cwd: path, env: id })).stdout.trim()
      await check('POST', '/repos/{owner}/{repo}/git/refs', H, 201, { body: { ref: 'refs/heads/topic', sha } })
      const pr = await check('POST', '/repos/{owner}/{repo}/pulls', H, 201, { body: { title: 'p', head: 'topic', base: 'main' } }) as { number: number }
      const sha2 = (await git(['commit-tree', tree, '-p', sha, '-m', 'hook 2'], { cwd: path, env: id })).stdout.trim()
      await check('PATCH', '/repos/{owner}/{repo}/git/refs/{ref}', { ...H, ref: 'heads/topic' }, 200, { body: { sha: sha2 } })
      await check('PATCH', '/repos/{owner}/{repo}/pulls/{pull_number}', { ...H, pull_number: pr.number }, 200, { body: { title: 'p2' } })
      await check('PATCH', '/repos/{owner}/{repo}/pulls/{pull_number}', { ...H, pull_number: pr.number }, 200, { body: { state: 'closed' } })
      await check('PATCH', '/repos/{owner}/{repo}/pulls/{pull_number}', { ...H, pull_number: pr.number }, 200, { body: { state: 'open' } })
      await check('POST', '/repos/{owner}/{repo}/forks', H, 202, { token: 'tok-carol', body: {} })
      await check('POST', '/repos/{owner}/{repo}/git/refs', H, 201, { body: { ref: 'refs/heads/gone', sha } })
      await check('DELETE', '/repos/{owner}/{repo}/git/refs/{ref}', { ...H, ref: 'heads/gone' }, 204)
      await forge.settled()
      const kinds = new Set<string>()
      const failures: string[] = []
      for (const r of received) {
        const action = typeof r.body.action === 'string' ? `-${r.body.action}` : ''
        const name = `${r.event.replace(/_/g, '-')}${action}`
        kinds.add(name)
        const hook = spec['x-webhooks'][name]
        expect(hook, `no x-webhooks entry ${name}`).toBeDefined()
        const key = `webhook ${name}`
        let v = cache.get(key)
        if (v == null) {
          const schema = structuredClone(hook?.post.requestBody.content['application/json']?.schema ?? {})
          rewrite(schema)
          v = ajv.compile(schema)
          cache.set(key, v)
        }
        if (!v(r.body)) failures.push(`${name}: ${JSON.stringify(v.errors?.slice(0, 6).map((e) => `${e.instancePath} ${e.message ?? ''} ${JSON.stringify(e.params)}`))}`)
      }
      expect(failures).toEqual([])
      expect([...kinds].sort()).toEqual([
        'create', 'delete', 'fork', 'issue-comment-created', 'issue-comment-deleted', 'issue-comment-edited',
        'issues-assigned', 'issues-closed', 'issues-edited', 'issues-labeled', 'issues-opened', 'issues-reopened',
        'issues-unassigned', 'issues-unlabeled', 'pull-request-closed', 'pull-request-edited', 'pull-request-opened',
        'pull-request-reopened', 'pull-request-synchronize', 'push'
      ])
    } finally {
      await new Promise((resolve) => receiver.close(resolve))
    }
  })
})
