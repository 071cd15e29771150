import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Forge } from '@bzzz/forge'
import { loadConfig } from './config.js'
import { runDoctor } from './doctor.js'
import { AlreadyInitialisedError } from './errors.js'
import { initNode } from './init.js'
import { testForge } from './test-utils.js'

let forge: Forge
let root: string
beforeAll(async () => {
  forge = await testForge(['alpha'], [])
  root = await mkdtemp(join(tmpdir(), 'bzzz-init-'))
})
afterAll(async () => {
  await forge.close()
  await rm(root, { recursive: true, force: true })
})

describe('bzzz init', () => {
  it('writes a configuration, a key (0600) and the HTTP token, and refuses to overwrite them', async () => {
    const dataDir = join(root, 'node')
    await writeFile(join(root, 'token'), 'tok-alpha\n', { mode: 0o600 })
    const r = await initNode({ dataDir, repos: ['acme/tasks'], tokenFile: join(root, 'token'), apiUrl: forge.url, gitUrl: forge.url, listen: ['/ip4/127.0.0.1/tcp/0'], httpPort: 0 })
    expect(r.peerId).toMatch(/^12D3KooW/)
    const { config } = await loadConfig({ path: r.configPath, env: {} })
    expect(config.repos).toEqual(['acme/tasks'])
    expect(config.dataDir).toBe(dataDir)
    expect(await readFile(r.configPath, 'utf8')).toContain('tokenFile:')
    await expect(initNode({ dataDir })).rejects.toBeInstanceOf(AlreadyInitialisedError)
  })
})

describe('bzzz doctor', () => {
  it('passes what is right, fails what is wrong and says how to fix it', async () => {
    const dataDir = join(root, 'doc')
    await writeFile(join(root, 'token2'), 'tok-alpha\n', { mode: 0o600 })
    const r = await initNode({ dataDir, repos: ['acme/tasks', 'acme/missing'], tokenFile: join(root, 'token2'), apiUrl: forge.url, gitUrl: forge.url, listen: ['/ip4/127.0.0.1/tcp/0'], httpPort: 0, gitName: 'bzzz-alpha', gitEmail: 'alpha@bzzz.local' })
    await chmod(join(dataDir, 'identity.key'), 0o640)
    const { config } = await loadConfig({ path: r.configPath, env: {} })
    const checks = await runDoctor({ config, env: { PATH: process.env.PATH }, timeoutMs: 3000 })
    const by = (name: string): { status: string, detail: string, fix?: string } => checks.find((c) => c.name === name)!
    expect(by('GitHub token').status).toBe('ok')
    expect(by('GitHub token').detail).toContain('as bzzz-alpha')
    expect(by('clock').status).toBe('ok')
    expect(by('repo acme/tasks').status).toBe('ok')
    expect(by('repo acme/missing').status).toBe('fail')
    expect(by('fork bzzz-alpha/tasks').status).toBe('ok')
    expect(by('identity key')).toMatchObject({ status: 'fail', fix: `chmod 600 ${join(dataDir, 'identity.key')}` })
    expect(by('git identity').status).toBe('ok')
    expect(by('peer discovery').status).toBe('warn')
    expect(['ok', 'warn']).toContain(by('ollama').status)
  }, 60_000)
})
