import { generateKeyPair } from '@libp2p/crypto/keys'
import { describe, expect, it } from 'vitest'

// The workspace patches @libp2p/crypto to keep Ed25519 key objects between signatures and to
// remember the signatures it checked (patches/, docs/mesh.md). A kept key or a remembered check
// must never vouch for another key's signature or for a changed message, whether it is found in
// a cache or was evicted from it.
describe('Ed25519 signatures with kept key objects', () => {
  const text = (s: string): Uint8Array => new TextEncoder().encode(s)

  it('a signature verifies only with its own key and message, on first use and on every reuse', async () => {
    const [a, b] = await Promise.all([generateKeyPair('Ed25519'), generateKeyPair('Ed25519')])
    const sigA = await a.sign(text('claim #42'))
    const sigB = await b.sign(text('claim #42'))
    for (let round = 0; round < 3; round++) {
      expect(await a.publicKey.verify(text('claim #42'), sigA)).toBe(true)
      expect(await b.publicKey.verify(text('claim #42'), sigB)).toBe(true)
      expect(await a.publicKey.verify(text('claim #42'), sigB)).toBe(false)
      expect(await b.publicKey.verify(text('claim #42'), sigA)).toBe(false)
      expect(await a.publicKey.verify(text('claim #43'), sigA)).toBe(false)
    }
    // Signing again with the kept private key gives the same (deterministic) signature.
    expect(await a.sign(text('claim #42'))).toEqual(sigA)
  })

  it('still right after more keys than the cache keeps have been used', async () => {
    const first = await generateKeyPair('Ed25519')
    const sig = await first.sign(text('presence'))
    expect(await first.publicKey.verify(text('presence'), sig)).toBe(true)
    const others = await Promise.all(Array.from({ length: 1100 }, async () => await generateKeyPair('Ed25519')))
    for (const k of others) expect(await k.publicKey.verify(text('presence'), sig)).toBe(false)
    expect(await first.publicKey.verify(text('presence'), sig)).toBe(true)
    expect(await others[0]!.publicKey.verify(text('presence'), await others[0]!.sign(text('presence')))).toBe(true)
  })

  it('a remembered check does not vouch for the same buffer changed in place', async () => {
    const key = await generateKeyPair('Ed25519')
    const message = text('task #7 claimed by peer a')
    const sig = await key.sign(message)
    expect(await key.publicKey.verify(message, sig)).toBe(true)
    expect(await key.publicKey.verify(message, sig)).toBe(true) // remembered
    message[message.length - 1] = 'b'.charCodeAt(0)
    expect(await key.publicKey.verify(message, sig)).toBe(false)
    const forged = Uint8Array.from(sig)
    forged[0] = (forged[0] ?? 0) ^ 1
    expect(await key.publicKey.verify(text('task #7 claimed by peer a'), forged)).toBe(false)
  })
})
