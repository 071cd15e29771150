// mDNS for real: three hosts, each in its own network namespace, on one bridge that lives in
// a fourth namespace. Nothing touches the machine's own interfaces, so no multicast leaves it.
// Needs root (CI runs as root); skips with the reason printed where namespaces cannot be made.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { waitFor } from './helpers.test.util.js'

const HOSTS = 3
const pkg = join(dirname(fileURLToPath(import.meta.url)), '..')
const fixture = join(pkg, 'test-fixtures', 'mdns-peer.js')
const tag = `bzm${process.pid}`
const switchNs = `${tag}sw`
const hostNs = Array.from({ length: HOSTS }, (_, i) => `${tag}h${i}`)
// Interface names are at most 15 characters.
const vethHost = (i: number): string => `bzh${process.pid % 1_000_000}x${i}`
const vethSwitch = (i: number): string => `bzs${process.pid % 1_000_000}x${i}`

function ip (...args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' })
  if (r.error !== undefined) throw r.error
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim()}`)
}

function setUpNetwork (): void {
  ip('netns', 'add', switchNs)
  ip('-n', switchNs, 'link', 'add', 'name', 'br0', 'type', 'bridge', 'mcast_snooping', '0')
  ip('-n', switchNs, 'link', 'set', 'br0', 'up')
  for (let i = 0; i < HOSTS; i++) {
    const ns = hostNs[i]!
    ip('netns', 'add', ns)
    ip('link', 'add', vethHost(i), 'type', 'veth', 'peer', 'name', vethSwitch(i))
    ip('link', 'set', vethHost(i), 'netns', ns)
    ip('link', 'set', vethSwitch(i), 'netns', switchNs)
    ip('-n', switchNs, 'link', 'set', vethSwitch(i), 'master', 'br0')
    ip('-n', switchNs, 'link', 'set', vethSwitch(i), 'up')
    ip('-n', ns, 'link', 'set', 'lo', 'up')
    ip('-n', ns, 'addr', 'add', `10.213.0.${i + 1}/24`, 'dev', vethHost(i))
    ip('-n', ns, 'link', 'set', vethHost(i), 'up')
    ip('-n', ns, 'route', 'add', 'default', 'dev', vethHost(i))
  }
}

function tearDownNetwork (): void {
  for (const ns of [...hostNs, switchNs]) spawnSync('ip', ['netns', 'del', ns])
  // Left in the root namespace only if setup failed between creating and moving them.
  for (let i = 0; i < HOSTS; i++) spawnSync('ip', ['link', 'del', vethHost(i)], { stdio: 'ignore' })
}

/**
 * Brings dist/ up to date: the fixture runs the built package, and a dist/ older than src/
 * (vitest alone builds nothing) would test stale code. Incremental, so quick when current.
 */
function ensureBuilt (): void {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
  const r = spawnSync(process.execPath, [tsc, '-b', pkg], { encoding: 'utf8' })
  if (r.status === 0 && existsSync(join(pkg, 'dist', 'index.js'))) return
  throw new Error(`cannot build dist/ for the mDNS fixture: ${r.stdout}${r.stderr}`)
}

interface Host { child: ChildProcess, lines: Array<Record<string, unknown>>, stderr: string }

describe('mDNS across network namespaces', () => {
  let skipReason: string | undefined
  const hosts: Host[] = []

  beforeAll(() => {
    if (process.platform !== 'linux') { skipReason = 'network namespaces need Linux'; return }
    try {
      setUpNetwork()
    } catch (err) {
      skipReason = `cannot make network namespaces (${err instanceof Error ? err.message : String(err)})`
      tearDownNetwork()
      return
    }
    try {
      ensureBuilt()
    } catch (err) {
      tearDownNetwork()
      throw err
    }
  }, 120_000)

  afterAll(async () => {
    for (const h of hosts) h.child.kill('SIGTERM')
    await Promise.all(hosts.map(async (h) => {
      if (h.child.exitCode !== null || h.child.signalCode !== null) return
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => { h.child.kill('SIGKILL'); resolve() }, 5000)
        h.child.once('exit', () => { clearTimeout(t); resolve() })
      })
    }))
    tearDownNetwork()
  })

  it('three hosts find each other with no bootstrap list and exchange messages', async (ctx) => {
    if (skipReason !== undefined) {
      console.log(`skipping the mDNS namespace test: ${skipReason}`)
      ctx.skip()
      return
    }
    for (const ns of hostNs) {
      const child = spawn('ip', ['netns', 'exec', ns, process.execPath, fixture, String(HOSTS)], { stdio: ['ignore', 'pipe', 'pipe'] })
      const host: Host = { child, lines: [], stderr: '' }
      let buffer = ''
      child.stdout?.on('data', (chunk: Buffer) => {
        buffer += chunk.toString()
        let nl: number
        while ((nl = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, nl)
          buffer = buffer.slice(nl + 1)
          try { host.lines.push(JSON.parse(line) as Record<string, unknown>) } catch { /* not ours */ }
        }
      })
      child.stderr?.on('data', (chunk: Buffer) => { host.stderr += chunk.toString() })
      hosts.push(host)
    }
    const event = (h: Host, name: string): Record<string, unknown> | undefined => h.lines.find((l) => l.event === name)
    try {
      await waitFor('every host ready', () => hosts.every((h) => event(h, 'ready') !== undefined), 30_000)
      await waitFor('every host to hear from every other', () => hosts.every((h) => event(h, 'done') !== undefined), 60_000)
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${hosts.map((h, i) => `host ${i}: ${JSON.stringify(h.lines)}\n${h.stderr}`).join('\n')}`, { cause: err })
    }
    const ids = hosts.map((h) => event(h, 'ready')!.peerId as string)
    for (const [i, h] of hosts.entries()) {
      const addrs = event(h, 'ready')!.addrs as string[]
      expect(addrs.some((a) => a.startsWith(`/ip4/10.213.0.${i + 1}/tcp/`))).toBe(true)
      const done = event(h, 'done')!
      const others = ids.filter((id) => id !== ids[i]).sort()
      expect([...(done.from as string[])].sort()).toEqual(others)
      // Found, not told: every other host became a peer without any bootstrap list.
      for (const other of others) expect(h.lines.some((l) => l.event === 'peer' && l.peer === other)).toBe(true)
    }
  }, 120_000)
})
