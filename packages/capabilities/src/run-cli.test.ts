import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { decode, encode } from '@bzzz/protocol'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { until } from './fixtures.test.util.js'
import { USAGE, runCli } from './run-cli.js'
import type { CapabilitySnapshot } from './types.js'

let dir: string
let env: NodeJS.ProcessEnv
/** An address where nothing listens: a port just freed. */
let closedHost: string
const H100 = { vendor: 'NVIDIA Corporation', model: 'GH100', name: 'NVIDIA H100 80GB HBM3', memoryTotal: 81559, memoryUsed: 4000, utilizationGpu: 37 }

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bzzz-caps-cli-'))
  await mkdir(join(dir, 'bin'))
  await writeFile(join(dir, 'bin', 'claude'), '#!/bin/sh\necho "1.0.67 (Claude Code)"\n')
  await chmod(join(dir, 'bin', 'claude'), 0o755)
  env = { PATH: join(dir, 'bin') }
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  closedHost = `127.0.0.1:${(server.address() as AddressInfo).port}`
  await new Promise<void>((resolve) => server.close(() => { resolve() }))
})

afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

async function run (argv: string[], until?: Promise<void>): Promise<{ code: number, out: string }> {
  let out = ''
  const code = await runCli({
    argv,
    env,
    write: (t) => { out += t },
    settleMs: 10,
    components: { graphics: async () => ({ controllers: [H100] }) },
    ...(until !== undefined ? { until } : {})
  })
  return { code, out }
}

describe('bzzz-capabilities', () => {
  it('prints a message that decodes, with each GPU\'s utilisation and memory', async () => {
    const { code, out } = await run(['--node-id', 'box-1', '--ollama-host', closedHost, '--cli', 'claude', '--cli', 'codex'])
    expect(code).toBe(0)
    const msg = decode(out)
    expect(decode(encode(msg))).toEqual(msg)
    expect(msg).toMatchObject({
      type: 'capabilities',
      node_id: 'box-1',
      installed: ['claude'],
      gpu: 37,
      gpus: [{ name: 'NVIDIA H100 80GB HBM3', util: 37, mem_total_mb: 81559, mem_used_mb: 4000 }]
    })
  })

  it('prints the full snapshot with reasons on --snapshot', async () => {
    const { out } = await run(['--snapshot', '--compact', '--ollama-host', closedHost, '--cli', 'codex'])
    expect(out.trim().split('\n')).toHaveLength(1)
    const s = JSON.parse(out) as CapabilitySnapshot
    expect(s.clis).toEqual([{ name: 'codex', available: false, absence: { reason: 'not-installed', detail: 'codex is not on the PATH' } }])
    expect(s.ollama).toMatchObject({ available: false, api: { reason: 'not-running' } })
  })

  it('prints the message then keeps running on --watch until told to stop', async () => {
    let stop = (): void => {}
    const ended = new Promise<void>((resolve) => { stop = resolve })
    let out = ''
    const p = runCli({ argv: ['--watch', '--compact', '--cli', 'claude', '--ollama-host', closedHost], env, write: (t) => { out += t }, until: ended, components: { graphics: async () => ({ controllers: [] }) } })
    await until(() => out.includes('"type":"capabilities"'))
    stop()
    expect(await p).toBe(0)
  })

  it('prints its usage on --help and refuses unknown options', async () => {
    expect(await run(['--help'])).toEqual({ code: 0, out: USAGE })
    await expect(run(['--bogus'])).rejects.toThrow(/Unknown option/)
  })
})
