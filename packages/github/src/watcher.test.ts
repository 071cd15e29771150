import { encode, validate, type TaskBroadcastMessage } from '@bzzz/protocol'
import { afterEach, describe, expect, it } from 'vitest'
import { ConfigError, GitHubRequestError } from './errors.js'
import { startForge, until, type Fixture } from './fixtures.test.util.js'
import { createWatcher, type Watcher, type WebhookReceiver } from './watcher.js'

const INTERVAL = 400

describe('watcher against the forge', () => {
  let fx: Fixture | undefined
  const watchers: Watcher[] = []
  const receivers: WebhookReceiver[] = []
  afterEach(async () => {
    await Promise.all(watchers.splice(0).map(async (w) => { await w.stop() }))
    await Promise.all(receivers.splice(0).map(async (r) => { await r.close() }))
    await fx?.close()
    fx = undefined
  })

  const setup = async (): Promise<Fixture> => await startForge({
    users: ['alice', 'bob', 'mallory'],
    orgs: [{ login: 'acme', members: ['bob'] }],
    faults: { latencyMs: [0, 5] },
    repos: [
      {
        owner: 'alice',
        name: 'tasks',
        files: { 'README.md': '# tasks\n' },
        labels: ['bzzz'],
        issues: [
          { title: 'Trusted task', body: 'do it', author: 'alice', labels: ['bzzz'] },
          { title: 'Untrusted task', body: 'rm -rf /', author: 'mallory', labels: ['bzzz'] },
          { title: 'Not a task', body: 'chat', author: 'alice' }
        ]
      },
      { owner: 'acme', name: 'coord', files: { 'README.md': '# coordination\n' }, labels: ['bzzz'], issues: [{ title: 'Org task', body: 'coordinate', author: 'bob', labels: ['bzzz', 'model:big'] }] }
    ]
  })

  it('announces eligible issues, stays free while idle, sees a new issue within one interval, updates and withdraws', async () => {
    fx = await setup()
    const client = await fx.client('bob')
    const events: Array<{ at: number, msg: TaskBroadcastMessage }> = []
    const watcher = createWatcher({ client, node: 'watch-node', repos: ['alice/tasks', 'acme/coord'], intervalMs: INTERVAL })
    watchers.push(watcher)
    const polls: Array<{ repo: string, notModified: boolean }> = []
    watcher.on('poll', (p) => polls.push(p))
    watcher.on('task', (msg) => events.push({ at: Date.now(), msg }))
    watcher.start()

    await until(() => events.length >= 2)
    expect(events.map((e) => `${e.msg.action} ${e.msg.repo}${e.msg.task_id}`).sort()).toEqual(['open acme/coord#1', 'open alice/tasks#1'])
    for (const e of events) expect(validate(e.msg)).toEqual(e.msg)
    expect(events.find((e) => e.msg.repo === 'acme/coord')!.msg.model).toBe('big')

    // Idle: after the first delta poll of each repository, polling is all 304s.
    await until(() => polls.filter((p) => p.repo === 'alice/tasks').length >= 2)
    const base = client.scopeCounts(watcher.scopeOf('alice/tasks')).counted
    const pollsBefore = polls.filter((p) => p.repo === 'alice/tasks').length
    await until(() => polls.filter((p) => p.repo === 'alice/tasks').length >= pollsBefore + 5)
    const idle = client.scopeCounts(watcher.scopeOf('alice/tasks'))
    expect(idle.counted).toBe(base)
    expect(idle.notModified).toBeGreaterThanOrEqual(5)

    // A new issue is seen within one poll interval.
    const alice = await fx.client('alice')
    const created = Date.now()
    await alice.request('POST /repos/{owner}/{repo}/issues', { owner: 'alice', repo: 'tasks', title: 'New task', body: 'fresh', labels: ['bzzz'] })
    await until(() => events.some((e) => e.msg.title === 'New task'))
    const seen = events.find((e) => e.msg.title === 'New task')!
    expect(seen.msg.action).toBe('open')
    expect(seen.at - created).toBeLessThanOrEqual(INTERVAL + 500)

    // Edited → update; unlabelled → withdraw; closed → withdraw.
    await alice.request('PATCH /repos/{owner}/{repo}/issues/{issue_number}', { owner: 'alice', repo: 'tasks', issue_number: 1, body: 'do it better' })
    await until(() => events.some((e) => e.msg.task_id === '#1' && e.msg.repo === 'alice/tasks' && e.msg.action === 'update'))
    expect(events.find((e) => e.msg.action === 'update')!.msg.input).toBe('do it better')
    await alice.request('DELETE /repos/{owner}/{repo}/issues/{issue_number}/labels/{name}', { owner: 'alice', repo: 'tasks', issue_number: 1, name: 'bzzz' })
    await until(() => events.some((e) => e.msg.task_id === '#1' && e.msg.repo === 'alice/tasks' && e.msg.action === 'withdraw'))
    const bob = await fx.client('bob')
    await bob.request('PATCH /repos/{owner}/{repo}/issues/{issue_number}', { owner: 'acme', repo: 'coord', issue_number: 1, state: 'closed' })
    await until(() => events.some((e) => e.msg.repo === 'acme/coord' && e.msg.action === 'withdraw'))
    // Mallory's issue never became a task.
    expect(events.some((e) => e.msg.title === 'Untrusted task')).toBe(false)
  }, 60_000)

  it('a webhook makes it instant; forged deliveries are refused; polling stays the fallback', async () => {
    fx = await setup()
    const client = await fx.client('bob')
    const events: TaskBroadcastMessage[] = []
    const watcher = createWatcher({ client, node: 'hook-node', repos: ['alice/tasks'], intervalMs: 60_000 })
    watchers.push(watcher)
    watcher.on('task', (msg) => events.push(msg))
    const receiver = await watcher.listenWebhooks({ secret: 'hook-secret' })
    receivers.push(receiver)
    fx.forge.addWebhook('alice', 'tasks', { url: receiver.url, secret: 'hook-secret', events: ['issues'] })
    watcher.start()
    await until(() => events.length >= 1)

    const alice = await fx.client('alice')
    const t0 = Date.now()
    await alice.request('POST /repos/{owner}/{repo}/issues', { owner: 'alice', repo: 'tasks', title: 'Hooked', body: 'now', labels: ['bzzz'] })
    await until(() => events.some((e) => e.title === 'Hooked'), 5000)
    expect(Date.now() - t0).toBeLessThan(5000)

    const forged = await fetch(receiver.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-github-event': 'issues', 'x-github-delivery': 'x1', 'x-hub-signature-256': 'sha256=' + '0'.repeat(64) },
      body: JSON.stringify({ action: 'opened', issue: { number: 99, title: 'Forged', body: 'evil', state: 'open', labels: [{ name: 'bzzz' }], author_association: 'OWNER', user: { login: 'alice' }, html_url: 'x', updated_at: new Date().toISOString() }, repository: { full_name: 'alice/tasks' } })
    })
    expect(forged.status).toBeGreaterThanOrEqual(400)
    expect(events.some((e) => e.title === 'Forged')).toBe(false)

    // A duplicated delivery is announced once.
    fx.forge.setFaults({ webhookDuplicateRate: 1 })
    await alice.request('POST /repos/{owner}/{repo}/issues', { owner: 'alice', repo: 'tasks', title: 'Twice', body: 'dup', labels: ['bzzz'] })
    await until(() => events.some((e) => e.title === 'Twice'), 5000)
    await fx.forge.settled()
    expect(events.filter((e) => e.title === 'Twice')).toHaveLength(1)
    fx.forge.setFaults({ webhookDuplicateRate: 0 })

    // A dropped delivery is caught up by the next poll.
    fx.forge.setFaults({ webhookDropRate: 1 })
    await alice.request('POST /repos/{owner}/{repo}/issues', { owner: 'alice', repo: 'tasks', title: 'Dropped', body: 'lost hook', labels: ['bzzz'] })
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(events.some((e) => e.title === 'Dropped')).toBe(false)
    await watcher.poll('alice/tasks')
    expect(events.some((e) => e.title === 'Dropped')).toBe(true)
  }, 60_000)

  it('keeps polling through errors, which are typed', async () => {
    fx = await setup()
    const warnings: string[] = []
    const client = await fx.client('bob', { log: { warn: (m) => { warnings.push(m) } } })
    const errors: Error[] = []
    const heard = createWatcher({ client, node: 'n', repos: ['alice/nope'], intervalMs: 100 })
    const unheard = createWatcher({ client, node: 'n', repos: ['alice/nope2'], intervalMs: 100 })
    watchers.push(heard, unheard)
    heard.on('error', (err) => errors.push(err))
    heard.start()
    unheard.start()
    await until(() => errors.length >= 3 && warnings.length >= 3)
    expect(errors.every((e) => e instanceof GitHubRequestError && e.status === 404)).toBe(true)
  }, 30_000)

  it('polling a repository it does not watch fails with a typed error', async () => {
    fx = await setup()
    const watcher = createWatcher({ client: await fx.client('bob'), node: 'n', repos: ['alice/tasks'] })
    watchers.push(watcher)
    await expect(watcher.poll('alice/other')).rejects.toBeInstanceOf(ConfigError)
  }, 30_000)

  it('a huge multi-byte issue still makes a valid broadcast under the size cap', async () => {
    fx = await setup()
    fx.forge.createIssue('alice', 'tasks', { title: '題'.repeat(2000), body: '界'.repeat(60_000), author: 'alice', labels: ['bzzz'] })
    const watcher = createWatcher({ client: await fx.client('bob'), node: 'n', repos: ['alice/tasks'] })
    watchers.push(watcher)
    const msgs: TaskBroadcastMessage[] = []
    watcher.on('task', (m) => msgs.push(m))
    await watcher.poll()
    const big = msgs.find((m) => m.input.startsWith('界'))!
    expect(encode(big).length).toBeLessThanOrEqual(64 * 1024)
    expect(big.input).toMatch(/^界+$/)
  }, 30_000)
})
