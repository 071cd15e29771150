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

/** The shape of Octokit's RequestError (not imported: @octokit/request-error is not a dependency). */
export interface HttpError extends Error {
  status: number
  response?: { headers: Record<string, string | number | undefined>, data: unknown }
}

export function isHttpError (err: unknown): err is HttpError {
  return err instanceof Error && err.name === 'HttpError' && typeof (err as { status?: unknown }).status === 'number'
}

/** Follow `Link: rel="next"` from a first page (the paginate plugin is not a dependency). */
export async function paginateAll<T> (octokit: RestClient, route: string, params: Record<string, unknown>): Promise<T[]> {
  const out: T[] = []
  let res = await octokit.request(route, params)
  for (;;) {
    out.push(...(res.data as T[]))
    const next = /<([^>]+)>;\s*rel="next"/.exec(String(res.headers.link ?? ''))?.[1]
    if (next == null) return out
    res = await octokit.request({ method: 'GET', url: next })
  }
}
