/** Shared fixtures of the forge's own tests (not part of the public API). */
import { Octokit } from '@octokit/core'
import { restEndpointMethods } from '@octokit/plugin-rest-endpoint-methods'
import type { ForgeInit, ForgeSeed } from './forge.js'

export const RestOctokit = Octokit.plugin(restEndpointMethods)
export type RestClient = InstanceType<typeof RestOctokit>

export function client (baseUrl: string, token?: string): RestClient {
  return new RestOctokit({ baseUrl, ...(token != null ? { auth: token } : {}), request: { retries: 0 } })
}

export function seed (): ForgeSeed {
  return {
    users: [
      { login: 'alice', token: 'tok-alice', name: 'Alice', email: 'alice@example.com' },
      { login: 'bob', token: 'tok-bob' },
      { login: 'carol', token: 'tok-carol' },
      { login: 'dave', token: 'tok-dave' },
      { login: 'olga', token: 'tok-olga' }
    ],
    orgs: [{ login: 'org', members: ['alice'], owners: ['olga'] }],
    repos: [{
      owner: 'org',
      name: 'tasks',
      files: { 'README.md': '# tasks\n', 'src/a.txt': 'a\n' },
      permissions: { alice: 'write', bob: 'read', carol: 'triage' },
      labels: ['bzzz', 'bug'],
      issues: [
        { title: 'first', body: 'one', author: 'alice', labels: ['bzzz'] },
        { title: 'second', author: 'bob' }
      ]
    }]
  }
}

export const baseInit = (extra: Partial<ForgeInit> = {}): ForgeInit => ({ port: 0, host: '127.0.0.1', seed: seed(), ...extra })

/** Poll until `check` returns a value other than undefined/false, or throw after `timeoutMs`. */
export async function waitFor<T> (check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 20_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await check()
    if (v !== undefined && v !== false) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}
