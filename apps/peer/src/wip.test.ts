// Finding earlier work on the upstream's forks (the fallback when no WIP note was heard),
// against the forge: with the earlier holders' logins, only their forks are read.
import { describe, expect, it } from 'vitest'
import { createGitHubClient } from '@bzzz/github'
import { branchFor, earlierHolderLogins, findWipOnForks } from './wip.js'
import { testMesh, waitFor } from './test-utils.js'

const mesh = testMesh()

describe('earlierHolderLogins', () => {
  const loginOf = (node: string): string | undefined => ({ n1: 'bzzz-a', n2: 'bzzz-b' } as Record<string, string>)[node]
  it('names the holder of every earlier attempt, or nothing when one is not known', () => {
    const attempts = [{ attempt: 1, holder: 'n1' }, { attempt: 2, holder: 'n2' }, { attempt: 3, holder: 'n1' }]
    expect(earlierHolderLogins(attempts, 1, loginOf)).toEqual([])
    expect(earlierHolderLogins(attempts, 3, loginOf)).toEqual(['bzzz-a', 'bzzz-b'])
    // An attempt the ledger never heard of, or a holder whose login is unknown: every fork.
    expect(earlierHolderLogins(attempts.slice(1), 3, loginOf)).toBeUndefined()
    expect(earlierHolderLogins([{ attempt: 1, holder: 'n9' }], 2, loginOf)).toBeUndefined()
    expect(earlierHolderLogins([{ attempt: 1, holder: undefined }], 2, loginOf)).toBeUndefined()
  })
})

describe('findWipOnForks', () => {
  it('finds the branch on an earlier holder\'s fork; given the holders, reads only their forks', async () => {
    const names = ['a', 'b', 'c', 'd']
    const f = await mesh.forge(names, [{ title: 'x', body: 'x', author: 'maintainer', labels: ['bzzz'] }])
    for (const n of names) {
      const res = await fetch(`${f.url}/repos/acme/tasks/forks`, { method: 'POST', headers: { authorization: `token tok-${n}` } })
      expect(res.status).toBe(202)
    }
    await waitFor('forks ready', () => names.every((n) => f.state.repo(`bzzz-${n}`, 'tasks').gitReady), 20_000)
    const sha = f.state.repo('bzzz-c', 'tasks').branches.get('main')!
    const made = await fetch(`${f.url}/repos/bzzz-c/tasks/git/refs`, {
      method: 'POST', headers: { authorization: 'token tok-c', 'content-type': 'application/json' }, body: JSON.stringify({ ref: `refs/heads/${branchFor(1)}`, sha })
    })
    expect(made.status).toBe(201)
    const branchReads: string[] = []
    f.events.on('request', (r) => { if (r.path.endsWith('/branches')) branchReads.push(r.path.split('/')[2]!) })
    const client = await createGitHubClient({ token: 'tok-a', baseUrl: f.url, gitBaseUrl: f.url })
    const wip = { fork: 'bzzz-c/tasks', branch: branchFor(1), cloneUrl: `${f.url}/bzzz-c/tasks.git` }

    expect(await findWipOnForks(client, 'acme/tasks', 1, { ownFork: 'bzzz-a/tasks', owners: ['bzzz-c'] })).toEqual(wip)
    expect(branchReads).toEqual(['bzzz-c'])
    branchReads.length = 0
    expect(await findWipOnForks(client, 'acme/tasks', 1, { ownFork: 'bzzz-a/tasks', owners: ['BZZZ-D', 'bzzz-b'] })).toBeUndefined()
    expect(branchReads.sort()).toEqual(['bzzz-b', 'bzzz-d'])
    branchReads.length = 0
    // Holders not known: every fork, the own one last.
    expect(await findWipOnForks(client, 'acme/tasks', 2, { ownFork: 'bzzz-a/tasks' })).toBeUndefined()
    expect(branchReads).toHaveLength(4)
    expect(branchReads.at(-1)).toBe('bzzz-a')
  }, 60_000)
})
