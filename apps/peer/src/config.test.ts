import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ENV_SETTINGS, applyEnv, loadConfig, validateConfig } from './config.js'
import { ConfigFileError, ConfigInvalidError } from './errors.js'

let dir: string
beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'bzzz-config-')) })
afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

async function file (name: string, text: string): Promise<string> {
  const path = join(dir, name)
  await writeFile(path, text)
  return path
}

describe('configuration', () => {
  it('fills in a default for every setting', async () => {
    const { config, path } = await loadConfig({ env: { BZZZ_DATA_DIR: dir } })
    expect(path).toBeUndefined()
    expect(config.dataDir).toBe(dir)
    expect(config.http).toEqual({ host: '127.0.0.1', port: 7701, enabled: true })
    expect(config.mesh.listen).toEqual(['/ip4/0.0.0.0/tcp/4001'])
    expect(config.timings.leaseMs).toBe(1_200_000)
    expect(config.agent.slots).toBe(1)
    expect(config.watch).toMatchObject({ intervalMs: 30_000, overlapMs: 300_000 })
  })

  it('reads the YAML file and lets BZZZ_* variables override it', async () => {
    const path = await file('ok.yaml', 'repos: [acme/tasks, acme/*]\nhttp:\n  port: 8000\nmesh:\n  bootstrap: []\n')
    const { config } = await loadConfig({ path, env: { BZZZ_HTTP__PORT: '8100', BZZZ_MESH__BOOTSTRAP: '/ip4/10.0.0.5/tcp/4001, /ip4/10.0.0.6/tcp/4001', BZZZ_MESH__MDNS: 'true', BZZZ_WATCH__OVERLAP_MS: '60000' } })
    expect(config.repos).toEqual(['acme/tasks', 'acme/*'])
    expect(config.watch.overlapMs).toBe(60_000)
    expect(config.http.port).toBe(8100)
    expect(config.mesh.bootstrap).toEqual(['/ip4/10.0.0.5/tcp/4001', '/ip4/10.0.0.6/tcp/4001'])
    expect(config.mesh.mdns).toBe(true)
  })

  it('names the field and the expected value of a bad setting', async () => {
    const path = await file('bad.yaml', 'http:\n  port: seventy\nrepos: [not a repo]\nmesh:\n  bootstrapp: []\n')
    const err = await loadConfig({ path, env: {} }).catch((e: unknown) => e) as ConfigInvalidError
    expect(err).toBeInstanceOf(ConfigInvalidError)
    expect(err.issues.map((i) => i.path).sort()).toEqual(['http.port', 'mesh.bootstrapp', 'repos.0'])
    expect(err.message).toContain('http.port: must be integer, got "seventy"')
    expect(err.message).toContain('repos.0: expected owner/name or owner/*, got "not a repo"')
    expect(err.message).toContain('mesh.bootstrapp: is not a setting')
    expect(err.message.split('\n')).toHaveLength(1)
  })

  it('names a bad environment variable value by its setting', async () => {
    const err = await loadConfig({ env: { BZZZ_DATA_DIR: dir, BZZZ_TIMINGS__LEASE_MS: 'soon' } }).catch((e: unknown) => e) as ConfigInvalidError
    expect(err).toBeInstanceOf(ConfigInvalidError)
    expect(err.issues[0]!.path).toBe('timings.leaseMs')
  })

  it('says where YAML is broken, and that a named file is missing', async () => {
    const path = await file('broken.yaml', 'http:\n  port: [1,\n')
    await expect(loadConfig({ path, env: {} })).rejects.toThrow(/not valid YAML at line \d+/)
    await expect(loadConfig({ path: join(dir, 'nope.yaml'), env: {} })).rejects.toBeInstanceOf(ConfigFileError)
  })

  it('every setting has an environment variable, and a valid value round-trips through it', () => {
    expect(ENV_SETTINGS.get('BZZZ_HTTP__PORT')?.path).toEqual(['http', 'port'])
    expect(ENV_SETTINGS.get('BZZZ_GITHUB__TOKEN_FILE')?.path).toEqual(['github', 'tokenFile'])
    fc.assert(fc.property(fc.integer({ min: 0, max: 65535 }), fc.integer({ min: 0, max: 86_400_000 }), (port, lease) => {
      const merged = applyEnv({}, { BZZZ_HTTP__PORT: String(port), BZZZ_TIMINGS__LEASE_MS: String(lease) })
      const file = validateConfig(merged, 'env')
      return file.http?.port === port && file.timings?.leaseMs === lease
    }))
  })
})
