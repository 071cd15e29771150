import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ProtocolError, SEED_SAMPLES, decode, encode, type Message } from './index.js'

// At least 10,000 cases per property, as the protocol's contract promises.
const runs = { numRuns: 10_000 }

const timestamp = fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2999-12-31T23:59:59Z'), noInvalidDate: true })
  .map((d) => d.toISOString())
const name = fc.string({ minLength: 1, maxLength: 40 })
const node = fc.string({ minLength: 1, maxLength: 60 })
const taskId = fc.nat({ max: 1_000_000 }).map((n) => `#${n}`)
const repo = fc.tuple(fc.stringMatching(/^[A-Za-z0-9_.-]{1,20}$/), fc.stringMatching(/^[A-Za-z0-9_.-]{1,20}$/)).map(([o, r]) => `${o}/${r}`)
const percent = fc.double({ min: 0, max: 100, noNaN: true })
const status = fc.constantFrom('idle' as const, 'busy' as const, 'draining' as const)
const count = fc.nat({ max: 1024 })
const opt = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined })
const version = opt(fc.integer({ min: 1, max: 1000 }))
const requirements = fc.record({
  models: opt(fc.array(name, { maxLength: 3 })),
  clis: opt(fc.array(name, { maxLength: 3 })),
  gpu: opt(fc.boolean()),
  min_mem_free_mb: opt(fc.nat())
}, { requiredKeys: [] })

/** Drops keys whose value is `undefined`: JSON has no undefined, so they don't survive a round trip. */
function clean<T extends object> (value: T): T {
  return JSON.parse(JSON.stringify(value)) as T
}

const capabilities = fc.record({
  type: fc.constant('capabilities' as const), v: version, node_id: node, cpu: percent, gpu: percent,
  models: fc.array(name, { maxLength: 5 }), installed: fc.array(name, { maxLength: 5 }), status, timestamp,
  mem: opt(percent), slots_free: opt(count), slots_total: opt(count),
  addrs: opt(fc.array(fc.constantFrom('/ip4/10.0.0.2/tcp/4001', '/memory/a', '/ip6/::1/tcp/9'), { maxLength: 3 })),
  gpus: opt(fc.array(fc.record({ name: fc.string({ maxLength: 20 }), util: opt(percent), mem_total_mb: opt(fc.nat()) }), { maxLength: 2 }))
})
const task = fc.record({
  type: fc.constant('task' as const), v: version, task_id: taskId, repo, issue_url: fc.webUrl(), model: fc.string({ maxLength: 20 }),
  input: fc.string({ maxLength: 300 }), params: fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 2 })), timestamp,
  title: opt(fc.string({ maxLength: 50 })), action: opt(fc.constantFrom('open' as const, 'update' as const, 'withdraw' as const)), requirements: opt(requirements)
})
const claim = fc.record({
  type: fc.constant('task_claim' as const), v: version, task_id: taskId, node_id: node, timestamp,
  repo: opt(repo), lease_expires: opt(timestamp), attempt: opt(fc.integer({ min: 1, max: 1000 })), claim_id: opt(fc.nat())
})
const result = fc.record({
  type: fc.constant('task_result' as const), v: version, task_id: taskId, node_id: node,
  result_type: fc.constantFrom('pull_request' as const, 'issue' as const, 'failure' as const), result_url: fc.webUrl(),
  duration_ms: fc.nat(), timestamp, repo: opt(repo), reason: fc.string({ minLength: 1, maxLength: 100 })
})
const ping = fc.record({
  type: fc.constant('presence_ping' as const), v: version, node_id: node, status,
  load: fc.record({ cpu: percent, mem: opt(percent) }), active_tasks: fc.array(fc.string({ maxLength: 30 }), { maxLength: 4 }), timestamp
})
const helpRequest = fc.record({
  type: fc.constant('task_help_request' as const), v: version, task_id: taskId, from_node: node, reason: fc.string({ maxLength: 100 }),
  requested_capability: fc.string({ maxLength: 30 }), timestamp, repo: opt(repo), request_id: opt(name), accepted_node: opt(node)
})
const helpResponse = fc.record({
  type: fc.constant('task_help_response' as const), v: version, task_id: taskId, from_node: node, can_help: fc.boolean(),
  capabilities: fc.array(name, { maxLength: 4 }), eta_seconds: fc.nat(), timestamp, repo: opt(repo), load: opt(percent)
})
const meta = fc.record({
  type: fc.constant('meta_discussion' as const), v: version, task_id: taskId, node_id: node,
  body: fc.string({ minLength: 1, maxLength: 200 }), timestamp, repo: opt(repo)
})
const anyMessage = fc.oneof(capabilities, task, claim, result, ping, helpRequest, helpResponse, meta)
  .map((m) => clean(m) as Message)

function onlyTypedErrors (input: Uint8Array | string): void {
  try {
    decode(input)
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err
  }
}

describe('decode never throws anything but ProtocolError', () => {
  it('on arbitrary bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => { onlyTypedErrors(bytes) }), runs)
  })

  it('on arbitrary strings', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 256 }), (s) => { onlyTypedErrors(s) }), runs)
  })

  it('on arbitrary JSON values', () => {
    fc.assert(fc.property(fc.jsonValue(), (v) => { onlyTypedErrors(JSON.stringify(v) ?? 'null') }), runs)
  })

  it('on seed samples with arbitrary fields replaced', () => {
    const bases = Object.values(SEED_SAMPLES).map((s) => JSON.parse(s) as Record<string, unknown>)
    fc.assert(fc.property(fc.constantFrom(...bases), fc.dictionary(fc.constantFrom('type', 'task_id', 'node_id', 'from_node', 'timestamp', 'cpu', 'models', 'params', 'repo', 'lease_expires', 'result_type'), fc.jsonValue({ maxDepth: 2 })), (base, patch) => {
      onlyTypedErrors(JSON.stringify({ ...base, ...patch }))
    }), runs)
  })

  it('on arbitrary bytes spliced into a valid message', () => {
    const samples = Object.values(SEED_SAMPLES).map((s) => new TextEncoder().encode(s))
    fc.assert(fc.property(fc.constantFrom(...samples), fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 8 }), (bytes, at, junk) => {
      const i = at % bytes.length
      const spliced = new Uint8Array([...bytes.subarray(0, i), ...junk, ...bytes.subarray(i)])
      onlyTypedErrors(spliced)
    }), runs)
  })
})

describe('encode then decode', () => {
  it('gives back any valid message', () => {
    fc.assert(fc.property(anyMessage, (message) => {
      expect(decode(encode(message))).toEqual(message)
    }), runs)
  })
})
