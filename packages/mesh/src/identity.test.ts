import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { afterAll, describe, expect, it } from 'vitest'
import { IdentityInvalidError, IdentityPermissionsError } from './errors.js'
import { loadIdentity, loadOrCreateIdentity } from './identity.js'

const dirs: string[] = []
async function tempDir (): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'bzzz-mesh-id-'))
  dirs.push(dir)
  return dir
}
afterAll(async () => { await Promise.all(dirs.map(async (d) => { await rm(d, { recursive: true, force: true }) })) })

describe('identity key file', () => {
  it('is created with mode 0600 and gives the same peer ID on every load', async () => {
    const path = join(await tempDir(), 'nested', 'identity.key')
    const first = await loadOrCreateIdentity(path)
    expect(first.type).toBe('Ed25519')
    expect((await stat(path)).mode & 0o777).toBe(0o600)
    const again = await loadOrCreateIdentity(path)
    expect(peerIdFromPrivateKey(again).toString()).toBe(peerIdFromPrivateKey(first).toString())
    expect((await loadIdentity(path))?.equals(first)).toBe(true)
  })

  it('agrees between concurrent creators', async () => {
    const path = join(await tempDir(), 'identity.key')
    const keys = await Promise.all(Array.from({ length: 8 }, async () => await loadOrCreateIdentity(path)))
    const ids = new Set(keys.map((k) => peerIdFromPrivateKey(k).toString()))
    expect(ids.size).toBe(1)
    expect(ids.has(peerIdFromPrivateKey((await loadIdentity(path))!).toString())).toBe(true)
  })

  it.each([0o640, 0o604, 0o644, 0o660, 0o666])('refuses a key file with mode %o, naming the path and the fix', async (mode) => {
    const path = join(await tempDir(), 'identity.key')
    await loadOrCreateIdentity(path)
    await chmod(path, mode)
    const err = await loadOrCreateIdentity(path).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(IdentityPermissionsError)
    expect(err).toMatchObject({ code: 'ERR_IDENTITY_PERMISSIONS', path, mode })
    expect((err as Error).message).toContain(`chmod 600 ${path}`)
    // The key itself never appears in the error.
    const key = await readFile(path)
    expect((err as Error).message).not.toContain(key.toString('hex'))
  })

  it('refuses a file that is not a key', async () => {
    const path = join(await tempDir(), 'identity.key')
    await writeFile(path, 'not a key', { mode: 0o600 })
    await expect(loadOrCreateIdentity(path)).rejects.toBeInstanceOf(IdentityInvalidError)
  })

  it('is undefined when missing, for loadIdentity', async () => {
    expect(await loadIdentity(join(await tempDir(), 'missing.key'))).toBeUndefined()
  })
})
