// `owner/*` against the forge (GET /orgs/{org}/repos): a node watching every repository of an
// organisation picks up one created after it started, without a restart, and works its
// labelled issue to a pull request.
import { describe, expect, it } from 'vitest'
import { expandRepos } from './repos.js'
import { FAST_TIMINGS, testMesh, waitFor } from './test-utils.js'

const mesh = testMesh()

describe('watching owner/*', () => {
  it('a repository created in the organisation after start is watched and its labelled issue worked', async () => {
    const forge = await mesh.forge(['alpha'], [])
    const node = await mesh.node({ name: 'alpha', forge, extra: { repos: ['acme/*'], timings: { ...FAST_TIMINGS, reposRefreshMs: 500 } } })
    await node.start()
    expect(node.repos()).toEqual(['acme/tasks'])
    const n = node
    await forge.addRepo({
      owner: 'acme',
      name: 'later',
      files: { 'README.md': '# later\n' },
      labels: ['bzzz'],
      issues: [{ title: 'Work in a new repository', body: 'x', author: 'maintainer', labels: ['bzzz'] }]
    })
    const since = Date.now()
    await waitFor('acme/later watched', () => n.repos().includes('acme/later'), 20_000)
    expect(n.repos()).toEqual(['acme/later', 'acme/tasks'])
    await waitFor('acme/later#1 done', () => n.tasks().find((t) => t.key === 'acme/later#1')?.status === 'done', 60_000)
    console.log(JSON.stringify({ metric: 'org_repo_pickup_to_done_s', seconds: Number(((Date.now() - since) / 1000).toFixed(1)) }))
    expect(n.status().phase).toBe('running')
    const res = await fetch(`${forge.url}/repos/acme/later/pulls?state=all`, { headers: { authorization: 'token tok-maintainer' } })
    const prs = await res.json() as Array<{ user: { login: string }, body: string }>
    expect(prs).toHaveLength(1)
    expect(prs[0]!.user.login).toBe('bzzz-alpha')
    // A user's repositories (GET /users/{u}/repos, when no organisation has the name), forks left out:
    // the node's own fork of acme/later is no task repository.
    await forge.addRepo({ owner: 'maintainer', name: 'solo', files: { 'README.md': '# solo\n' } })
    expect(await expandRepos(n.client, ['maintainer/*', 'bzzz-alpha/*'])).toEqual(['maintainer/solo'])
  }, 90_000)
})
