import { describe, expect, it } from 'vitest'
import {
  InvalidJsonError,
  InvalidTimestampError,
  InvalidUtf8Error,
  MessageTooLargeError,
  type ProtocolError,
  SchemaError,
  SEED_SAMPLES,
  SENDER_FIELD,
  senderOf,
  decode,
  decodeTopic,
  encode,
  safeDecode,
  topicName,
  parseTopicName,
  type Message,
  type Topic
} from './index.js'

const samples = Object.entries(SEED_SAMPLES) as Array<[Topic, string]>

function rejects (data: Uint8Array | string, type: new (...args: never[]) => ProtocolError): ProtocolError {
  const r = safeDecode(data)
  expect(r.ok).toBe(false)
  if (r.ok) throw new Error('unreachable')
  expect(r.error).toBeInstanceOf(type)
  expect(() => decode(data)).toThrow(type)
  return r.error
}

describe('seed samples', () => {
  it.each(samples)('%s decodes as written', (topic, text) => {
    const fromString = decode(text)
    const fromBytes = decodeTopic(topic, new TextEncoder().encode(text))
    expect(fromBytes).toEqual(JSON.parse(text))
    expect(fromString).toEqual(fromBytes)
  })

  it.each(samples)('%s without a required field is rejected with its path', (_topic, text) => {
    const value = JSON.parse(text) as Record<string, unknown>
    for (const key of Object.keys(value).filter((k) => k !== 'type')) {
      const copy = { ...value }
      delete copy[key]
      const err = rejects(JSON.stringify(copy), SchemaError) as SchemaError
      expect(err.issues.map((i) => i.path + ' ' + i.message).join('\n')).toContain(key)
    }
  })

  it.each(samples)('%s with a field of the wrong type is rejected at that path', (_topic, text) => {
    const value = JSON.parse(text) as Record<string, unknown>
    for (const key of Object.keys(value).filter((k) => k !== 'type' && k !== 'params')) {
      const wrong = typeof value[key] === 'string' ? 12 : 'twelve'
      const err = rejects(JSON.stringify({ ...value, [key]: wrong }), SchemaError) as SchemaError
      expect(err.issues.some((i) => i.path === `/${key}`)).toBe(true)
    }
  })

  it('capabilities may carry up to 16 dialable addresses', () => {
    const value = JSON.parse(SEED_SAMPLES.capabilities) as Record<string, unknown>
    const addrs = Array.from({ length: 16 }, (_, i) => `/ip4/10.0.0.${i}/tcp/4001`)
    expect(decode(JSON.stringify({ ...value, addrs }))).toMatchObject({ addrs })
    const err = rejects(JSON.stringify({ ...value, addrs: [...addrs, '/ip4/10.0.1.1/tcp/1'] }), SchemaError) as SchemaError
    expect(err.issues.some((i) => i.path === '/addrs')).toBe(true)
    expect(rejects(JSON.stringify({ ...value, addrs: [''] }), SchemaError)).toBeInstanceOf(SchemaError)
  })

  it.each(samples)('%s truncated at every length is rejected', (_topic, text) => {
    const bytes = new TextEncoder().encode(text)
    for (let n = 0; n < bytes.length - 1; n++) {
      // The final newline-free `}` is the last byte: any shorter prefix is not a JSON object.
      rejects(bytes.subarray(0, n), InvalidJsonError)
    }
  })

  it.each(samples)('%s padded with 1 MiB is rejected as too large', (_topic, text) => {
    const value = JSON.parse(text) as Record<string, unknown>
    const padded = JSON.stringify({ ...value, padding: 'x'.repeat(1024 * 1024) })
    const err = rejects(new TextEncoder().encode(padded), MessageTooLargeError) as MessageTooLargeError
    expect(err.limit).toBe(64 * 1024)
    expect(err.size).toBeGreaterThan(1024 * 1024)
    rejects(padded, MessageTooLargeError)
  })
})

describe('decode', () => {
  it('tolerates unknown extra fields and keeps them', () => {
    const value = { ...JSON.parse(SEED_SAMPLES.task_claim), future_field: { a: 1 } }
    expect(decode(JSON.stringify(value))).toEqual(value)
  })

  it('rejects invalid UTF-8', () => {
    const bytes = new TextEncoder().encode(SEED_SAMPLES.task_claim)
    bytes[20] = 0xff
    rejects(bytes, InvalidUtf8Error)
    rejects('{"type":"\ud800"}', InvalidUtf8Error)
  })

  it('rejects non-objects and unknown types at /type', () => {
    for (const text of ['null', '[]', '1', '"task"', '{}', '{"type":"nope"}', '{"type":7}']) {
      const err = rejects(text, SchemaError) as SchemaError
      expect(err.issues[0]?.path).toMatch(/^(\/type)?$/)
    }
  })

  it('rejects bad timestamps with their path', () => {
    const base = JSON.parse(SEED_SAMPLES.task_claim) as Record<string, unknown>
    for (const ts of ['yesterday', '2025-02-30T00:00:00Z', '2025-07-12T25:00:00Z', '2025-07-12', '2025-07-12T01:23:45']) {
      const err = rejects(JSON.stringify({ ...base, timestamp: ts }), InvalidTimestampError) as InvalidTimestampError
      expect(err.path).toBe('/timestamp')
      expect(err.reason).toBe('format')
    }
    const lease = rejects(JSON.stringify({ ...base, lease_expires: 'soon' }), InvalidTimestampError) as InvalidTimestampError
    expect(lease.path).toBe('/lease_expires')
    for (const ts of ['2025-07-12T01:23:45.123456Z', '2025-07-12t01:23:45+02:00', '2024-02-29T23:59:60Z']) {
      expect(decode(JSON.stringify({ ...base, timestamp: ts }))).toBeTruthy()
    }
  })

  it('checks clock skew when asked', () => {
    const now = Date.parse('2025-07-12T02:00:00Z')
    const opts = { maxSkewMs: 30_000, now: () => now }
    expect(decode(SEED_SAMPLES.task_claim, opts).type).toBe('task_claim')
    const err = decode.bind(null, SEED_SAMPLES.task_result, opts)
    expect(err).toThrow(InvalidTimestampError)
    try { err() } catch (e) { expect((e as InvalidTimestampError).skewMs).toBe(605_000) }
  })

  it('requires a reason on failures and finite numbers', () => {
    const base = JSON.parse(SEED_SAMPLES.task_result) as Record<string, unknown>
    const failure = { ...base, result_type: 'failure', result_url: '' }
    expect(rejects(JSON.stringify(failure), SchemaError).message).toContain('reason')
    expect(decode(JSON.stringify({ ...failure, reason: 'agent exited 1' })).type).toBe('task_result')
    expect((rejects('{"type":"task_result","task_id":"#1","node_id":"a","result_type":"issue","result_url":"u","duration_ms":1e999,"timestamp":"2025-07-12T02:10:05Z"}', SchemaError) as SchemaError).issues[0]?.path).toBe('/duration_ms')
    const params = rejects('{"type":"task","task_id":"#1","repo":"a/b","issue_url":"u","model":"m","input":"i","params":{"x":[1e999]},"timestamp":"2025-07-12T02:10:05Z"}', SchemaError) as SchemaError
    expect(params.issues[0]?.path).toBe('/params/x/0')
  })

  it('finds a non-finite number in params at any depth', () => {
    for (const depth of [1, 63, 64, 65, 200, 20_000]) {
      const nested = '['.repeat(depth) + '1e999' + ']'.repeat(depth)
      const text = `{"type":"task","task_id":"#1","repo":"a/b","issue_url":"u","model":"m","input":"i","params":{"x":${nested}},"timestamp":"2025-07-12T02:10:05Z"}`
      const err = rejects(text, SchemaError) as SchemaError
      expect(err.issues[0]?.path).toBe('/params/x' + '/0'.repeat(depth))
    }
  })

  it('decodeTopic refuses a message of another topic', () => {
    expect(() => decodeTopic('task_claim', SEED_SAMPLES.task_result)).toThrow(SchemaError)
  })

  it('honours a custom size cap', () => {
    expect(() => decode(SEED_SAMPLES.capabilities, { maxBytes: 100 })).toThrow(MessageTooLargeError)
  })
})

describe('encode', () => {
  it('round-trips and refuses invalid or oversized messages', () => {
    const msg = JSON.parse(SEED_SAMPLES.capabilities) as Message
    expect(decode(encode(msg))).toEqual(msg)
    expect(() => encode({ ...msg, cpu: 120 } as Message)).toThrow(SchemaError)
    expect(() => encode(msg, { maxBytes: 10 })).toThrow(MessageTooLargeError)
  })
})

describe('encode of values JSON cannot carry', () => {
  const task = { ...(JSON.parse(SEED_SAMPLES.task_broadcast) as Record<string, unknown>) }

  it('throws a SchemaError, not a TypeError, for a BigInt or a cycle in params', () => {
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    for (const params of [{ n: 1n }, cyclic]) {
      expect(() => encode({ ...task, params } as Message)).toThrow(SchemaError)
    }
  })

  it('terminates on a cycle that holds a non-finite number', () => {
    const cyclic: Record<string, unknown> = { bad: Number.POSITIVE_INFINITY }
    cyclic.self = [cyclic]
    const err = (() => { try { encode({ ...task, params: cyclic } as Message) } catch (e) { return e } })() as SchemaError
    expect(err).toBeInstanceOf(SchemaError)
    expect(err.issues.map((i) => i.path)).toContain('/params/bad')
  })
})

describe('topic names', () => {
  it('carry the mesh name and version and parse back', () => {
    expect(topicName('lab', 'task_claim')).toBe('bzzz/lab/1/task_claim')
    expect(parseTopicName('bzzz/lab/1/task_claim')).toEqual({ mesh: 'lab', version: 1, topic: 'task_claim' })
    expect(parseTopicName('bzzz/lab/1/nope')).toBeUndefined()
    expect(parseTopicName('other/lab/1/task_claim')).toBeUndefined()
    expect(() => topicName('Bad Mesh', 'task_claim')).toThrow(RangeError)
  })
})

describe('the sender a mesh requires', () => {
  it('the seed samples that name their sender decode with requireSender; the seed task, which names none, only without it', () => {
    for (const [topic, text] of samples) {
      const message = decode(text)
      const field = SENDER_FIELD[message.type]
      if (topic === 'task_broadcast') {
        expect(senderOf(message)).toBeUndefined()
        const err = (() => { try { decode(text, { requireSender: true }) } catch (e) { return e } })() as SchemaError
        expect(err).toBeInstanceOf(SchemaError)
        expect(err.issues[0]).toMatchObject({ path: '/node_id', keyword: 'required' })
        expect(decode(JSON.stringify({ ...JSON.parse(text), node_id: 'watcher' }), { requireSender: true })).toMatchObject({ node_id: 'watcher' })
      } else {
        expect(decode(text, { requireSender: true })).toEqual(message)
        expect(senderOf(message)).toBe((message as unknown as Record<string, string>)[field])
      }
    }
  })
})
