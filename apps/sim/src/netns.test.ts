import { spawnSync } from 'node:child_process'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { NetnsError } from './errors.js'
import { MAX_NETNS_PEERS, netnsPlan, netnsUnavailable, openNetnsNetwork, setUpCommands, staleNamespaces, tearDownCommands } from './netns.js'

const pid = fc.integer({ min: 1, max: 4_194_304 })
const peers = fc.integer({ min: 1, max: MAX_NETNS_PEERS })

describe('netns plan', () => {
  it('names fit Linux (interfaces ≤ 15 characters), addresses are private, distinct and off the uplink', () => {
    fc.assert(fc.property(pid, peers, fc.nat(49), (p, n, slot) => {
      const plan = netnsPlan(p, n, slot)
      const ifs = [plan.rootIf, plan.switchUplinkIf, ...Array.from({ length: n }, (_, i) => [plan.peerIf(i), plan.portIf(i)]).flat()]
      for (const name of ifs) expect(name.length).toBeLessThanOrEqual(15)
      expect(new Set(ifs).size).toBe(ifs.length)
      const hosts = Array.from({ length: n }, (_, i) => plan.peerHost(i))
      expect(new Set(hosts).size).toBe(n)
      for (const h of [...hosts, plan.forgeHost]) expect(h).toMatch(/^10\.(2[0-4]\d)\.\d{1,3}\.\d{1,3}$/)
      for (const h of hosts) expect(h.startsWith(`${plan.peerNet}.`) && !h.endsWith('.254')).toBe(true)
      expect(plan.forgeHost.startsWith(`${plan.uplinkNet}.`)).toBe(true)
      expect(plan.peerNet).not.toBe(plan.uplinkNet)
    }), { numRuns: 40 })
  })

  it('tears down every namespace and root-side interface it sets up', () => {
    fc.assert(fc.property(pid, fc.integer({ min: 1, max: 20 }), (p, n) => {
      const plan = netnsPlan(p, n)
      const up = setUpCommands(plan)
      const down = tearDownCommands(plan)
      const made = up.filter((c) => c[0] === 'netns' && c[1] === 'add').map((c) => c[2])
      const removed = down.filter((c) => c[0] === 'netns' && c[1] === 'del').map((c) => c[2])
      expect(removed.sort()).toEqual(made.sort())
      // Every veth made in the root namespace is either moved into a namespace or deleted.
      for (const c of up.filter((c) => c[0] === 'link' && c[1] === 'add')) {
        const rootEnd = c[2]!
        const moved = up.some((m) => m[0] === 'link' && m[1] === 'set' && m[2] === rootEnd && m[3] === 'netns')
        expect(moved || down.some((d) => d[0] === 'link' && d[1] === 'del' && d[2] === rootEnd)).toBe(true)
      }
      // mDNS stays in the namespaces: nothing but the uplink's unicast route touches the root namespace.
      const rootCmds = up.filter((c) => c[0] !== '-n' && c[0] !== 'netns')
      for (const c of rootCmds) expect(c.join(' ')).toMatch(/bzs\d+(r|u|h\d+|s\d+)\b/)
    }))
  })

  it('refuses more peers than a subnet holds', () => {
    expect(() => netnsPlan(1, MAX_NETNS_PEERS + 1)).toThrow(/1 to 250 peers/)
    expect(() => netnsPlan(1, 0)).toThrow(/netns/)
  })

  it('finds namespaces of runs whose process is gone, and only ours', () => {
    const list = 'bzs12sw (id: 3)\nbzs12p0 (id: 4)\nbzs99p1\nother\nbzm5sw\nbzs7p3x\n'
    expect(staleNamespaces(list, (p) => p === 99)).toEqual(['bzs12sw', 'bzs12p0'])
  })
})

describe.skipIf(netnsUnavailable() !== undefined)('netns network (root)', () => {
  it('builds the plan, and removes everything on close and when a step fails, naming the command', () => {
    const list = (): string => `${spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout}${spawnSync('ip', ['link', 'show'], { encoding: 'utf8' }).stdout}`
    const tag = `bzs${process.pid}`
    const net = openNetnsNetwork(2)
    try {
      expect(list()).toContain(net.plan.peerNs(1))
      expect(spawnSync('ip', ['-n', net.plan.peerNs(0), '-4', 'addr', 'show'], { encoding: 'utf8' }).stdout).toContain(net.plan.peerHost(0))
    } finally {
      net.close()
      net.close()
    }
    expect(list()).not.toContain(tag)
    // A step that fails (the uplink's name already taken) undoes what was made before it.
    const taken = netnsPlan(process.pid, 2).rootIf
    expect(spawnSync('ip', ['link', 'add', taken, 'type', 'veth', 'peer', 'name', `${tag}z`]).status).toBe(0)
    try {
      let error: unknown
      try { openNetnsNetwork(2).close() } catch (err) { error = err }
      expect(error).toBeInstanceOf(NetnsError)
      expect((error as Error).message).toMatch(new RegExp(`^ip link add ${taken} type veth .*File exists`))
      expect(spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout).not.toContain(tag)
    } finally {
      spawnSync('ip', ['link', 'del', taken])
    }
    expect(list()).not.toContain(tag)
  })
})
