import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Router } from './router.js'

const PATTERNS = [
  '/repos/:owner/:repo/issues',
  '/repos/:owner/:repo/issues/comments',
  '/repos/:owner/:repo/issues/comments/:id',
  '/repos/:owner/:repo/issues/:number',
  '/repos/:owner/:repo/issues/:number/comments',
  '/repos/:owner/:repo/branches/:branch+',
  '/repos/:owner/:repo/branches/main',
  '/users/:login',
  '/users/:login/repos'
]

function answer (router: Router<string>, path: string): { pattern: string, params: Record<string, string> } | undefined {
  const r = router.match('GET', path)
  return 'handler' in r ? { pattern: r.handler, params: r.params } : undefined
}

describe('Router', () => {
  it('answers each path with its most specific pattern, whatever order the routes were added in', () => {
    fc.assert(fc.property(fc.shuffledSubarray(PATTERNS, { minLength: PATTERNS.length }), (order) => {
      const router = new Router<string>()
      for (const p of order) router.add('GET', p, p)
      expect(answer(router, '/repos/o/r/issues/comments')).toEqual({ pattern: '/repos/:owner/:repo/issues/comments', params: { owner: 'o', repo: 'r' } })
      expect(answer(router, '/repos/o/r/issues/comments/7')?.pattern).toBe('/repos/:owner/:repo/issues/comments/:id')
      expect(answer(router, '/repos/o/r/issues/7')).toEqual({ pattern: '/repos/:owner/:repo/issues/:number', params: { owner: 'o', repo: 'r', number: '7' } })
      expect(answer(router, '/repos/o/r/issues/7/comments')?.pattern).toBe('/repos/:owner/:repo/issues/:number/comments')
      expect(answer(router, '/repos/o/r/branches/main')?.pattern).toBe('/repos/:owner/:repo/branches/main')
      expect(answer(router, '/repos/o/r/branches/feature/x%2Fy')).toEqual({ pattern: '/repos/:owner/:repo/branches/:branch+', params: { owner: 'o', repo: 'r', branch: 'feature/x/y' } })
      expect(answer(router, '/users/al%20ice/')).toEqual({ pattern: '/users/:login', params: { login: 'al ice' } })
      expect(answer(router, '/users/alice/repos')?.pattern).toBe('/users/:login/repos')
    }))
  })

  it('tells a path served under another method from an unknown path', () => {
    const router = new Router<string>().add('GET', '/users/:login', 'get')
    expect(router.match('POST', '/users/alice')).toEqual({ methodNotAllowed: true })
    expect(router.match('GET', '/nope')).toEqual({ methodNotAllowed: false })
  })
})
