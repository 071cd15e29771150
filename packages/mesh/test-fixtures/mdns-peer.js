// One peer of the mDNS test (src/mdns.test.ts), run inside its own network namespace:
//   ip netns exec <ns> node test-fixtures/mdns-peer.js <number of peers>
// No bootstrap list: it must find the others through mDNS. Prints JSON lines on stdout.
import { clearInterval, setInterval } from 'node:timers'
import { createMesh } from '../dist/index.js'

const expected = Number(process.argv[2] ?? 3)
const out = (value) => { process.stdout.write(JSON.stringify(value) + '\n') }

const mesh = await createMesh({
  meshName: 'mdnstest',
  listen: ['/ip4/0.0.0.0/tcp/0'],
  mdns: { intervalMs: 1000 }
})
const from = new Set()
mesh.subscribe('presence_ping', (msg) => {
  if (from.has(msg.node_id)) return
  from.add(msg.node_id)
  out({ event: 'message', from: msg.node_id })
})
mesh.addEventListener('peer:join', (evt) => { out({ event: 'peer', peer: evt.detail.toString() }) })
await mesh.start()
out({ event: 'ready', peerId: mesh.peerId.toString(), addrs: mesh.getMultiaddrs().map(String) })

let seq = 0
let done = false
const timer = setInterval(() => {
  mesh.publish('presence_ping', {
    type: 'presence_ping',
    node_id: mesh.peerId.toString(),
    status: 'idle',
    load: { cpu: 1 },
    active_tasks: [],
    timestamp: new Date().toISOString(),
    seq: seq++
  }).catch((err) => { out({ event: 'error', message: String(err) }) })
  if (!done && from.size >= expected - 1) {
    done = true
    out({ event: 'done', peers: mesh.getPeers().map(String), from: [...from] })
  }
}, 500)

process.on('SIGTERM', () => {
  clearInterval(timer)
  mesh.stop().finally(() => process.exit(0))
})
