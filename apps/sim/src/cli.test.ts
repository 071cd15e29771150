import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli, scenarioPath } from './cli.js'
import { fakeNodeFactory } from './fake-node.test.util.js'

function io (peers = 2): { io: Parameters<typeof runCli>[1], out: () => string, err: () => string } {
  const stdout = new PassThrough()
  const stderr = new PassThrough()
  let out = ''
  let err = ''
  stdout.on('data', (d: Buffer) => { out += d.toString() })
  stderr.on('data', (d: Buffer) => { err += d.toString() })
  return { io: { stdout, stderr, nodeFactory: () => fakeNodeFactory(peers) }, out: () => out, err: () => err }
}

describe('bzzz-sim', () => {
  let dir: string
  beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'bzzz-sim-cli-')) })
  afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

  it('finds scenarios by name or path', () => {
    expect(scenarioPath('peer-killed')).toMatch(/scenarios\/peer-killed\.yaml$/)
    expect(scenarioPath('./x.yaml')).toBe('./x.yaml')
  })

  it('runs a scenario with overrides, prints the table and writes --json and --html; exit 0 when all holds', async () => {
    const t = io(2)
    const json = join(dir, 'r.json')
    const html = join(dir, 'r.html')
    const code = await runCli(['-p', '2', '-i', '3', '--seed', '5', '--duration', '30', '--json', json, '--html', html], t.io)
    expect(code).toBe(0)
    expect(t.out()).toContain('default: 2 peers (memory), 3 issues, scripted agent, seed 5')
    expect(t.out()).toContain('Report: PASS')
    const report = JSON.parse(await readFile(json, 'utf8')) as Record<string, unknown>
    for (const key of ['tasks_total', 'tasks_done', 'tasks_failed', 'duplicate_executions', 'duplicate_publications', 'lost_tasks', 'claim_decision_ms', 'claim_latency_ms', 'recovery_ms', 'github_requests', 'peak_rss_mb', 'logs_verified']) {
      expect(report).toHaveProperty(key)
    }
    expect(report).toMatchObject({ tasks_total: 3, tasks_done: 3, seed: 5, claim_decision_ms: { p50: expect.any(Number), p99: expect.any(Number) }, github_requests: { total: expect.any(Number), per_task: expect.any(Number) } })
    expect(await readFile(html, 'utf8')).toMatch(/^<!doctype html>/)
  }, 60_000)

  it('exits 1 when an invariant fails, naming it', async () => {
    const t = io(2)
    const code = await runCli(['-p', '2', '-i', '2', '--duration', '2', '-q', '-s', await scenarioFile(dir, 'agent: { kind: scripted, workMs: 60000 }')], t.io)
    expect(code).toBe(1)
    expect(t.out()).toContain('FAIL no lost task')
  }, 60_000)

  it('exits 2 on a usage error or a bad scenario, naming the field', async () => {
    const a = io()
    expect(await runCli(['--transport', 'carrier-pigeon'], a.io)).toBe(2)
    expect(a.err()).toMatch(/carrier-pigeon/)
    const b = io()
    expect(await runCli(['-s', 'no-such-scenario'], b.io)).toBe(2)
    expect(b.err()).toMatch(/no scenario no-such-scenario/)
    const c = io()
    expect(await runCli(['-s', await scenarioFile(dir, 'faults: [{ kind: kill, nthTask: 0 }]')], c.io)).toBe(2)
    expect(c.err()).toMatch(/\/faults\/0/)
    const d = io()
    expect(await runCli(['-p', 'many'], d.io)).toBe(2)
    const e = io()
    expect(await runCli(['--agent', 'cli:gemini', '-t', 'tcp', '-q'], e.io)).toBe(2)
    expect(e.out()).toContain('cli:gemini agent')
    expect(e.err()).toMatch(/agent: cli:gemini runs with transport memory/)
    const f = io()
    expect(await runCli(['--agent', 'robot'], f.io)).toBe(2)
    expect(f.err()).toMatch(/scripted, cli, cli:claude or cli:codex/)
    const g = io()
    expect(await runCli(['--issue-rate', '0'], g.io)).toBe(2)
    expect(g.err()).toMatch(/issue rate must be a number of issues per second/)
  })

  it('lists every transport and agent in --help', async () => {
    const t = io()
    expect(await runCli(['--help'], t.io)).toBe(0)
    for (const word of ['memory', 'tcp', 'netns', 'mDNS', 'scripted', 'cli[:claude|codex]']) expect(t.out()).toContain(word)
  })
})

async function scenarioFile (dir: string, extra: string): Promise<string> {
  const file = join(dir, `s-${Math.random().toString(36).slice(2)}.yaml`)
  await writeFile(file, `name: custom\npeers: 2\nissues: 2\n${extra}\n`)
  return file
}
