// Propagation latency, delivery and memory of in-process meshes of 10, 50 and 100 peers with
// sparse random connections. Prints one JSON line per size:
// {"bench":"mesh.propagation","peers":100,"p50_ms":…,"p99_ms":…,"delivery":1,"rss_mb_per_peer":…}
// The latency of a message is the time until the last peer has it.
// Run: npx -y pnpm@12 bench mesh   (BENCH_SIZES=10,50 BENCH_MESSAGES=50 to change)
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { performance } from 'node:perf_hooks'
import { topicName } from '@bzzz/protocol'
import { createMesh, type Mesh } from './index.js'

const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

function gc (): void {
  const g = (globalThis as { gc?: () => void }).gc
  if (g !== undefined) { g(); g() }
}

function quantile (sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number
}

async function waitFor (what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(50)
  }
}

/** Loads and compiles every code path once, so one-time process costs do not count per peer. */
async function warmUp (): Promise<void> {
  const [a, b] = [await createMesh({ transport: 'memory', meshName: 'bench' }), await createMesh({ transport: 'memory', meshName: 'bench' })]
  await a.start()
  await b.start()
  let got = false
  b.subscribe('presence_ping', () => { got = true })
  a.subscribe('presence_ping', () => {})
  await b.dial(a.getMultiaddrs()[0] as never)
  const deadline = Date.now() + 10_000
  while (!got && Date.now() < deadline) {
    await a.publish('presence_ping', { type: 'presence_ping', node_id: a.peerId.toString(), status: 'idle', load: { cpu: 1 }, active_tasks: [], timestamp: new Date().toISOString() })
    await sleep(100)
  }
  await a.stop()
  await b.stop()
}

async function runSize (peers: number, messages: number, degree: number): Promise<void> {
  await warmUp()
  await sleep(500)
  gc()
  const rssBefore = process.memoryUsage().rss
  const meshes: Mesh[] = []
  for (let i = 0; i < peers; i++) {
    // Only the connections the benchmark makes: sparse, random.
    meshes.push(await createMesh({ transport: 'memory', targetConnections: 1, meshName: 'bench', dht: process.env.BENCH_DHT === '1' }))
  }
  await Promise.all(meshes.map(async (m) => { await m.start() }))
  const received = new Map<number, number[]>()
  for (const m of meshes) {
    m.subscribe('presence_ping', (msg) => {
      const at = performance.now()
      const seq = msg.seq ?? -1
      const list = received.get(seq) ?? []
      list.push(at)
      received.set(seq, list)
    })
  }
  // Peer i dials `degree` random earlier peers: connected, sparse and random.
  for (let i = 1; i < peers; i++) {
    const targets = new Set<number>()
    while (targets.size < Math.min(degree, i)) targets.add(Math.floor(Math.random() * i))
    for (const t of targets) await (meshes[i] as Mesh).dial((meshes[t] as Mesh).getMultiaddrs()[0] as never)
  }
  const name = topicName('bench', 'presence_ping')
  const meshPeers = (m: Mesh): number => (m.libp2p.services.pubsub as unknown as { getMeshPeers: (t: string) => string[] }).getMeshPeers(name).length
  await waitFor('topic meshes', () => meshes.every((m) => meshPeers(m) > 0), 60_000)
  await sleep(3000) // a few heartbeats for the meshes to fill up

  const latencies: number[] = []
  let delivered = 0
  for (let seq = 0; seq < messages; seq++) {
    const sender = meshes[Math.floor(Math.random() * peers)] as Mesh
    const start = performance.now()
    await sender.publish('presence_ping', {
      type: 'presence_ping',
      node_id: sender.peerId.toString(),
      status: 'idle',
      load: { cpu: 1 },
      active_tasks: [],
      timestamp: new Date().toISOString(),
      seq
    })
    const deadline = Date.now() + 5000
    while ((received.get(seq)?.length ?? 0) < peers - 1 && Date.now() < deadline) await sleep(2)
    const times = received.get(seq) ?? []
    delivered += times.length
    if (times.length === peers - 1) latencies.push(Math.max(...times) - start)
    await sleep(50)
  }
  latencies.sort((a, b) => a - b)

  // Idle memory: let the heartbeats run, then collect garbage.
  await sleep(3000)
  gc()
  const rssAfter = process.memoryUsage().rss
  console.log(JSON.stringify({
    bench: 'mesh.propagation',
    peers,
    messages,
    degree,
    p50_ms: Math.round(quantile(latencies, 0.5) * 10) / 10,
    p95_ms: Math.round(quantile(latencies, 0.95) * 10) / 10,
    p99_ms: Math.round(quantile(latencies, 0.99) * 10) / 10,
    max_ms: Math.round(quantile(latencies, 1) * 10) / 10,
    delivery: Math.round((delivered / (messages * (peers - 1))) * 10_000) / 10_000,
    rss_mb_per_peer: Math.round(((rssAfter - rssBefore) / peers / 1024 / 1024) * 100) / 100,
    rss_mb_total: Math.round(rssAfter / 1024 / 1024),
    connections_per_peer: Math.round((meshes.reduce((n, m) => n + m.getPeers().length, 0) / peers) * 10) / 10
  }))
  await Promise.all(meshes.map(async (m) => { await m.stop() }))
}

const sizeArg = process.argv[2]
const messages = Number(process.env.BENCH_MESSAGES ?? 100)
const degree = Number(process.env.BENCH_DEGREE ?? 3)
if (sizeArg !== undefined) {
  await runSize(Number(sizeArg), messages, degree)
  process.exit(0)
} else {
  // Each size in a fresh process, so that one size's memory does not count against the next.
  const sizes = (process.env.BENCH_SIZES ?? '10,50,100').split(',').map(Number)
  for (const size of sizes) {
    const child = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), String(size)], { stdio: 'inherit' })
    if (child.status !== 0) process.exitCode = 1
  }
}
