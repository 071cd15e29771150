import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createClaimer } from './claimer.js'
import { createGitHubClient } from './client.js'
import { ConfigError } from './errors.js'
import { checkNodeId } from './util.js'
import { createWatcher } from './watcher.js'

describe('the node id given to the watcher and the claimer', () => {
  it('a PeerId object (from JavaScript) is refused at once, with the fix in the message', async () => {
    const client = await createGitHubClient({ token: 'tok-unused', baseUrl: 'http://127.0.0.1:9' })
    const peerId = { type: 'Ed25519', toString: () => '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN' }
    const node = peerId as unknown as string
    expect(() => createWatcher({ client, node, repos: ['acme/app'] })).toThrow(ConfigError)
    expect(() => createClaimer({ client, node })).toThrow(/peerId\.toString\(\)/)
    expect(createClaimer({ client, node: peerId.toString() }).node).toBe(peerId.toString())
  })

  it('accepts exactly the strings of 1–128 characters', () => {
    fc.assert(fc.property(fc.string({ minLength: 1, maxLength: 128 }), (s) => checkNodeId(s) === s))
    fc.assert(fc.property(fc.oneof(fc.constant(''), fc.string({ minLength: 129, maxLength: 300 }), fc.integer(), fc.constant(null), fc.object()), (v) => {
      expect(() => checkNodeId(v)).toThrow(ConfigError)
    }))
  })
})
