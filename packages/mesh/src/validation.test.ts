import { DEFAULT_MAX_MESSAGE_BYTES, SEED_SAMPLES, SchemaError, encode, type Message } from '@bzzz/protocol'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { MeshError } from './errors.js'
import { AUTHOR_FIELD, SignerMismatchError, UnsignedMessageError, authorOf, validateMeshMessage, type ValidationLimits } from './validation.js'

const NOW = Date.parse('2025-07-12T02:00:00Z')
const limits: ValidationLimits = { maxBytes: DEFAULT_MAX_MESSAGE_BYTES, maxSkewMs: 5 * 60_000, now: () => NOW }
const bytes = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value))

/** The seed's samples (plus a ping), re-dated to `NOW` and authored by `signer`. */
function samples (signer: string, at = NOW): Array<[keyof typeof SEED_SAMPLES | 'presence_ping', Message]> {
  const list: Array<[keyof typeof SEED_SAMPLES | 'presence_ping', Message]> = (Object.entries(SEED_SAMPLES) as Array<[keyof typeof SEED_SAMPLES, string]>)
    .map(([topic, text]) => [topic, JSON.parse(text) as Message])
  list.push(['presence_ping', { type: 'presence_ping', node_id: 'x', status: 'idle', load: { cpu: 1 }, active_tasks: [], timestamp: '' }])
  for (const [, m] of list) {
    const author = AUTHOR_FIELD[m.type]
    ;(m as unknown as Record<string, unknown>)[author] = signer
    m.timestamp = new Date(at).toISOString()
  }
  return list
}

const peerLike = fc.stringMatching(/^[1-9A-HJ-NP-Za-km-z]{1,60}$/)

describe('validateMeshMessage', () => {
  it('accepts every message type when the named node is the signer', () => {
    fc.assert(fc.property(peerLike, fc.integer({ min: -limits.maxSkewMs, max: limits.maxSkewMs }), (signer, skew) => {
      for (const [topic, message] of samples(signer, NOW + skew)) {
        const result = validateMeshMessage(topic, encode(message), signer, limits)
        expect(result).toMatchObject({ ok: true, message })
      }
    }))
  })

  it('rejects a message naming another node than its signer', () => {
    fc.assert(fc.property(peerLike, peerLike, (signer, other) => {
      fc.pre(signer !== other)
      for (const [topic, message] of samples(other)) {
        const result = validateMeshMessage(topic, encode(message), signer, limits)
        expect(result.ok).toBe(false)
        if (!result.ok) {
          expect(result.reason).toBe('signer-mismatch')
          expect(result.error).toBeInstanceOf(SignerMismatchError)
          expect(result.error).toBeInstanceOf(MeshError)
          expect(result.error).toMatchObject({ code: 'ERR_SIGNER_MISMATCH', signer, named: other })
        }
      }
    }))
  })

  it('rejects a task without node_id (an anonymous announcement or withdrawal) as malformed, and checks node_id when a task has one', () => {
    const task = JSON.parse(SEED_SAMPLES.task_broadcast) as Message
    task.timestamp = new Date(NOW).toISOString()
    for (const action of [undefined, 'open', 'withdraw']) {
      const anonymous = action === undefined ? task : { ...task, action }
      const result = validateMeshMessage('task_broadcast', bytes(anonymous), 'anyone', limits)
      expect(result).toMatchObject({ ok: false, reason: 'malformed' })
      if (!result.ok) expect((result.error as SchemaError).issues[0]).toMatchObject({ path: '/node_id', keyword: 'required' })
    }
    const named = { ...task, node_id: 'watcher' }
    expect(validateMeshMessage('task_broadcast', bytes(named), 'watcher', limits).ok).toBe(true)
    expect(validateMeshMessage('task_broadcast', bytes(named), 'intruder', limits)).toMatchObject({ ok: false, reason: 'signer-mismatch' })
    expect(authorOf(task)).toEqual({ field: 'node_id', value: undefined })
  })

  it('takes only the canonical peer id of the signer as its name, not a CID spelling of the same key', async () => {
    const id = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    const signer = id.toString()
    const [[topic, message]] = samples(signer) as [[ 'capabilities', Message ]]
    expect(validateMeshMessage(topic, encode(message), signer, limits).ok).toBe(true)
    const alias = { ...message, node_id: id.toCID().toString() }
    expect(validateMeshMessage(topic, encode(alias), signer, limits)).toMatchObject({ ok: false, reason: 'signer-mismatch' })
  })

  it('rejects unsigned messages', () => {
    const [[topic, message]] = samples('a') as [[ 'capabilities', Message ]]
    const result = validateMeshMessage(topic, encode(message), undefined, limits)
    expect(result).toMatchObject({ ok: false, reason: 'unsigned', error: { code: 'ERR_UNSIGNED_MESSAGE' } })
    if (!result.ok) {
      expect(result.error).toBeInstanceOf(UnsignedMessageError)
      expect(result.error).toBeInstanceOf(MeshError)
    }
  })

  it('rejects timestamps outside the skew window, either way', () => {
    fc.assert(fc.property(fc.integer({ min: limits.maxSkewMs + 1, max: 10 * 365 * 86_400_000 }), fc.boolean(), (skew, future) => {
      for (const [topic, message] of samples('me', NOW + (future ? skew : -skew))) {
        expect(validateMeshMessage(topic, encode(message), 'me', limits)).toMatchObject({ ok: false, reason: 'clock-skew' })
      }
    }))
  })

  it('rejects oversized messages before parsing them', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 4096 }), fc.integer({ min: 1, max: 4096 }), (cap, extra) => {
      const data = new Uint8Array(cap + extra).fill(0x7b) // not even JSON: must fail on size alone
      expect(validateMeshMessage('presence_ping', data, 'me', { ...limits, maxBytes: cap })).toMatchObject({ ok: false, reason: 'too-large' })
    }))
  })

  it('rejects arbitrary bytes and schema-invalid JSON as malformed', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }), (data) => {
      const result = validateMeshMessage('capabilities', data, 'me', limits)
      expect(result.ok).toBe(false)
    }))
    fc.assert(fc.property(fc.jsonValue(), (value) => {
      const result = validateMeshMessage('presence_ping', bytes(value), 'me', limits)
      expect(result).toMatchObject({ ok: false, reason: 'malformed' })
    }))
  })

  it("rejects a valid message of another topic's type", () => {
    const all = samples('me')
    for (const [topic] of all) {
      for (const [other, message] of all) {
        if (other === topic) continue
        const result = validateMeshMessage(topic, encode(message), 'me', limits)
        expect(result).toMatchObject({ ok: false, reason: 'wrong-topic' })
        if (!result.ok) {
          expect(result.error).toBeInstanceOf(SchemaError)
          expect((result.error as SchemaError).issues[0]?.path).toBe('/type')
        }
      }
    }
  })
})
