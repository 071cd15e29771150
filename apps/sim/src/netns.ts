/**
 * The network of `transport: netns`: one network namespace per peer, all on a bridge that
 * lives in a namespace of its own (the "switch"), so that mDNS multicast stays among the peers
 * and never reaches the machine's own interfaces. The switch routes (unicast only: multicast
 * is never forwarded) to one veth pair into the root namespace, where the forge listens on
 * the root end's address; nothing else is reachable. Names carry the sim's process id, so
 * runs side by side do not collide, and a run's leftovers can be told from a live run's.
 *
 * The plan (names, addresses, the `ip` commands) is pure; `openNetnsNetwork` runs it.
 */
import { spawnSync } from 'node:child_process'
import { NetnsError } from './errors.js'

/** Most peers one subnet holds (a /24 with the switch's address at .254). */
export const MAX_NETNS_PEERS = 250

export interface NetnsPlan {
  tag: string
  peers: number
  /** The switch namespace, with bridge `br0`. */
  switchNs: string
  /** `10.a.b`: the peers' /24 (peer i at .i+1, the switch at .254). */
  peerNet: string
  /** `10.a.b+1`: the /30 from the switch (.1) to the root namespace (.2). */
  uplinkNet: string
  /** The forge's address: the root end of the uplink. */
  forgeHost: string
  rootIf: string
  switchUplinkIf: string
  peerNs: (i: number) => string
  peerHost: (i: number) => string
  peerIf: (i: number) => string
  portIf: (i: number) => string
}

/** Names and addresses for a run, from the process id and a subnet choice (`slot`). Pure. */
export function netnsPlan (pid: number, peers: number, slot = 0): NetnsPlan {
  if (!Number.isInteger(peers) || peers < 1 || peers > MAX_NETNS_PEERS) throw new NetnsError(`transport netns takes 1 to ${MAX_NETNS_PEERS} peers, not ${peers}`)
  const tag = `bzs${pid}`
  const k = (pid + slot) % (50 * 120)
  const a = 200 + (k % 50)
  const b = 2 * Math.floor(k / 50)
  const peerNet = `10.${a}.${b}`
  const uplinkNet = `10.${a}.${b + 1}`
  return {
    tag,
    peers,
    switchNs: `${tag}sw`,
    peerNet,
    uplinkNet,
    forgeHost: `${uplinkNet}.2`,
    // Interface names: at most 15 characters (a pid has at most 7 digits: `bzs` + 7 + 4 = 14).
    rootIf: `${tag}r`,
    switchUplinkIf: `${tag}u`,
    peerNs: (i) => `${tag}p${i}`,
    peerHost: (i) => `${peerNet}.${i + 1}`,
    peerIf: (i) => `${tag}h${i}`,
    portIf: (i) => `${tag}s${i}`
  }
}

/** The `ip` commands that build the network, in order. Pure. */
export function setUpCommands (p: NetnsPlan): string[][] {
  const sw = p.switchNs
  const out: string[][] = [
    ['netns', 'add', sw],
    ['-n', sw, 'link', 'set', 'lo', 'up'],
    ['-n', sw, 'link', 'add', 'name', 'br0', 'type', 'bridge', 'mcast_snooping', '0'],
    ['-n', sw, 'addr', 'add', `${p.peerNet}.254/24`, 'dev', 'br0'],
    ['-n', sw, 'link', 'set', 'br0', 'up'],
    ['link', 'add', p.rootIf, 'type', 'veth', 'peer', 'name', p.switchUplinkIf],
    ['link', 'set', p.switchUplinkIf, 'netns', sw],
    ['-n', sw, 'addr', 'add', `${p.uplinkNet}.1/30`, 'dev', p.switchUplinkIf],
    ['-n', sw, 'link', 'set', p.switchUplinkIf, 'up'],
    ['addr', 'add', `${p.forgeHost}/30`, 'dev', p.rootIf],
    ['link', 'set', p.rootIf, 'up'],
    ['route', 'add', `${p.peerNet}.0/24`, 'via', `${p.uplinkNet}.1`, 'dev', p.rootIf],
    ['netns', 'exec', sw, 'sh', '-c', 'echo 1 > /proc/sys/net/ipv4/ip_forward']
  ]
  for (let i = 0; i < p.peers; i++) {
    const ns = p.peerNs(i)
    out.push(
      ['netns', 'add', ns],
      ['link', 'add', p.peerIf(i), 'type', 'veth', 'peer', 'name', p.portIf(i)],
      ['link', 'set', p.peerIf(i), 'netns', ns],
      ['link', 'set', p.portIf(i), 'netns', sw],
      ['-n', sw, 'link', 'set', p.portIf(i), 'master', 'br0'],
      ['-n', sw, 'link', 'set', p.portIf(i), 'up'],
      ['-n', ns, 'link', 'set', 'lo', 'up'],
      ['-n', ns, 'addr', 'add', `${p.peerHost(i)}/24`, 'dev', p.peerIf(i)],
      ['-n', ns, 'link', 'set', p.peerIf(i), 'up'],
      ['-n', ns, 'route', 'add', 'default', 'via', `${p.peerNet}.254`]
    )
  }
  return out
}

/**
 * The commands that remove everything `setUpCommands` makes, each safe to run when its object
 * is already gone (deleting a namespace deletes its interfaces, their veth ends and routes).
 * Pure.
 */
export function tearDownCommands (p: NetnsPlan): string[][] {
  return [
    ...Array.from({ length: p.peers }, (_, i) => ['netns', 'del', p.peerNs(i)]),
    ['netns', 'del', p.switchNs],
    // Left in the root namespace only when the set-up stopped between making and moving them.
    ['link', 'del', p.rootIf],
    ...Array.from({ length: p.peers }, (_, i) => ['link', 'del', p.peerIf(i)])
  ]
}

/** Namespaces of earlier runs whose process is gone (`bzs<pid>…`), from `ip netns list`. Pure. */
export function staleNamespaces (list: string, alive: (pid: number) => boolean): string[] {
  const out: string[] = []
  for (const line of list.split('\n')) {
    const name = line.trim().split(/\s+/)[0] ?? ''
    const m = /^bzs(\d+)(sw|p\d+)$/.exec(name)
    if (m !== null && !alive(Number(m[1]))) out.push(name)
  }
  return out
}

function ip (args: string[]): { ok: boolean, stderr: string, stdout: string } {
  const r = spawnSync('ip', args, { encoding: 'utf8', timeout: 10_000 })
  if (r.error !== undefined) return { ok: false, stderr: r.error.message, stdout: '' }
  return { ok: r.status === 0, stderr: r.stderr.trim(), stdout: r.stdout }
}

function pidAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Why this machine cannot make the network, or undefined when it can. */
export function netnsUnavailable (): string | undefined {
  if (process.platform !== 'linux') return 'transport netns needs Linux network namespaces'
  if (process.getuid?.() !== 0) return 'transport netns needs root (it makes network namespaces, veth pairs and a bridge); run as root or use -t tcp'
  const r = ip(['netns', 'list'])
  if (!r.ok) return `transport netns needs iproute2's \`ip netns\` (${r.stderr.split('\n')[0] ?? 'not found'}); install iproute2 or use -t tcp`
  return undefined
}

export interface NetnsNetwork {
  plan: NetnsPlan
  /** The command prefix that runs a program in peer i's namespace. */
  wrap: (i: number) => string[]
  /** Removes everything; safe to call twice (and from an `exit` handler: it is synchronous). */
  close: () => void
}

/**
 * Builds the network for `peers` peers: checks root and `ip`, removes namespaces left by runs
 * whose process is gone, picks a subnet no route of the root namespace uses, and runs the plan.
 * Any failure removes what was made and throws a `NetnsError` naming the command.
 */
export function openNetnsNetwork (peers: number): NetnsNetwork {
  const why = netnsUnavailable()
  if (why !== undefined) throw new NetnsError(why)
  for (const ns of staleNamespaces(ip(['netns', 'list']).stdout, pidAlive)) ip(['netns', 'del', ns])
  const routes = `${ip(['-4', 'route', 'show', 'table', 'all']).stdout}\n${ip(['-4', 'addr', 'show']).stdout}`
  let plan = netnsPlan(process.pid, peers)
  for (let slot = 1; slot < 50 && (routes.includes(`${plan.peerNet}.`) || routes.includes(`${plan.uplinkNet}.`)); slot++) plan = netnsPlan(process.pid, peers, slot)
  let closed = false
  const close = (): void => {
    if (closed) return
    closed = true
    process.off('exit', close)
    for (const cmd of tearDownCommands(plan)) ip(cmd)
  }
  process.on('exit', close)
  for (const cmd of setUpCommands(plan)) {
    const r = ip(cmd)
    if (!r.ok) {
      close()
      throw new NetnsError(`ip ${cmd.join(' ')}: ${r.stderr.split('\n')[0] ?? 'failed'}`)
    }
  }
  return { plan, wrap: (i) => ['ip', 'netns', 'exec', plan.peerNs(i)], close }
}
