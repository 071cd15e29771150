import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ScenarioError } from './errors.js'
import { applyOverrides, loadScenario, parseScenario } from './scenario.js'

const dir = join(import.meta.dirname, '..', 'scenarios')

describe('scenario files', () => {
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'))

  it('every file in scenarios/ validates, and its name is its file name', async () => {
    expect(files.length).toBeGreaterThanOrEqual(11)
    for (const f of files) {
      const s = await loadScenario(join(dir, f))
      expect(`${s.name}.yaml`).toBe(f)
    }
  })

  it('covers every fault kind the issue names', async () => {
    const kinds = new Set<string>()
    for (const f of files) for (const fault of (await loadScenario(join(dir, f))).faults) kinds.add(fault.kind)
    expect([...kinds].sort()).toEqual(['clock-skew', 'forge', 'kill', 'list-lag', 'partition', 'rate-limit-burst'])
    const agents = await Promise.all(['slow-agents', 'failing-agents', 'hanging-agents'].map(async (n) => (await loadScenario(join(dir, `${n}.yaml`))).agent))
    expect(agents[0]!.workMs[0]).toBeGreaterThanOrEqual(1000)
    expect(agents[1]!.failRate).toBeGreaterThan(0)
    expect(agents[2]!.hangRate).toBeGreaterThan(0)
  })
})

describe('parseScenario', () => {
  it('fills the defaults', () => {
    const s = parseScenario('name: x\npeers: 3\nissues: 2\n')
    expect(s).toMatchObject({ transport: 'memory', encryption: 'noise', issueRate: undefined, forkAhead: false, seed: 1, slots: 1, faults: [], lease: undefined, agent: { kind: 'scripted', workMs: [0, 0], failRate: 0, hangRate: 0 } })
  })

  it('issues may arrive at a rate; plaintext connections only in memory', () => {
    expect(parseScenario('name: x\npeers: 3\nissues: 2\nissueRate: 2.5\nencryption: plaintext\n')).toMatchObject({ issueRate: 2.5, encryption: 'plaintext' })
    expect(() => parseScenario('name: x\npeers: 3\nissues: 2\nissueRate: 0\n')).toThrow(ScenarioError)
    const e = (() => { try { parseScenario('name: x\npeers: 3\nissues: 2\ntransport: tcp\nencryption: plaintext\n') } catch (err) { return err as ScenarioError } })()
    expect(e?.issues[0]).toMatchObject({ path: '/encryption' })
    // A transport other than memory from the command line encrypts; the rate can be given there too.
    const s = parseScenario('name: x\npeers: 3\nissues: 2\nencryption: plaintext\n')
    expect(applyOverrides(s, { transport: 'tcp', issueRate: 4 })).toMatchObject({ transport: 'tcp', encryption: 'noise', issueRate: 4 })
    expect(applyOverrides(s, {})).toMatchObject({ encryption: 'plaintext', issueRate: undefined })
  })

  it('names the path of each wrong value', () => {
    const bad = (text: string): ScenarioError => {
      try {
        parseScenario(text, 'bad.yaml')
      } catch (err) {
        return err as ScenarioError
      }
      throw new Error('accepted')
    }
    const e1 = bad('name: x\npeers: 0\nissues: 2\n')
    expect(e1).toBeInstanceOf(ScenarioError)
    expect(e1.issues.map((i) => i.path)).toContain('/peers')
    expect(e1.message).toMatch(/^bad\.yaml: /)
    expect(bad('name: x\npeers: 2\nissues: 2\nfaults: [{ kind: meteor }]\n').issues.some((i) => i.path.startsWith('/faults/0'))).toBe(true)
    expect(bad('name: x\npeers: 2\nissues: 2\nfaults: [{ kind: clock-skew, peer: 5, skewMs: 1 }]\n').issues[0]!.path).toBe('/faults/0/peer')
    expect(bad('name: x\npeers: 2\nissues: 2\nagent: { kind: scripted, workMs: [5, 1] }\n').issues[0]!.path).toBe('/agent/workMs')
    expect(bad('name: x\npeers: 2\nissues: 2\nextra: 1\n').issues.length).toBeGreaterThan(0)
    expect(bad('{ not yaml').issues[0]!.message).toMatch(/not YAML/)
  })

  it('command-line overrides apply and are validated again', () => {
    const s = parseScenario('name: x\npeers: 3\nissues: 2\n')
    expect(applyOverrides(s, { peers: 7, seed: 9, transport: 'tcp' })).toMatchObject({ peers: 7, seed: 9, transport: 'tcp', issues: 2 })
    expect(() => applyOverrides(s, { peers: 0 })).toThrow(ScenarioError)
  })
})
