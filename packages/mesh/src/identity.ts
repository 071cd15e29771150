import { randomBytes } from 'node:crypto'
import { link, mkdir, open, readFile, rm, stat } from 'node:fs/promises'
import { dirname } from 'node:path'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { AbortOptions, PrivateKey } from '@libp2p/interface'
import { IdentityInvalidError, IdentityPermissionsError } from './errors.js'

/** Group and other permission bits: any of them set means someone else can read or change the key. */
const FOREIGN_BITS = 0o077

/**
 * Loads the peer's Ed25519 identity from `path`, or creates it there (mode 0600, written
 * atomically: a temporary file, then a hard link that fails if another process won) when the file does not exist. The same file always gives the same peer ID.
 *
 * Throws `IdentityPermissionsError` when the file is accessible to group or others, and
 * `IdentityInvalidError` when it does not hold an Ed25519 key.
 */
export async function loadOrCreateIdentity (path: string, options: AbortOptions = {}): Promise<PrivateKey> {
  options.signal?.throwIfAborted()
  const existing = await loadIdentity(path, options)
  if (existing !== undefined) return existing

  const key = await generateKeyPair('Ed25519')
  await mkdir(dirname(path), { recursive: true, mode: 0o700 })
  const tmp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`
  try {
    // `wx`: never follow or reuse a file someone else prepared; 0600 from the first byte.
    const handle = await open(tmp, 'wx', 0o600)
    try {
      await handle.writeFile(privateKeyToProtobuf(key), options)
      await handle.sync()
    } finally {
      await handle.close()
    }
    options.signal?.throwIfAborted()
    // `link` fails when `path` exists: of racing creators exactly one wins, and the others
    // load the winner's key, so they all agree.
    try {
      await link(tmp, path)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      const winner = await loadIdentity(path, options)
      if (winner === undefined) throw err
      return winner
    }
  } finally {
    await rm(tmp, { force: true })
  }
  return key
}

/** Loads the identity at `path`; `undefined` when there is no file. */
export async function loadIdentity (path: string, options: AbortOptions = {}): Promise<PrivateKey | undefined> {
  let mode: number
  try {
    mode = (await stat(path)).mode
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
  if ((mode & FOREIGN_BITS) !== 0) throw new IdentityPermissionsError(path, mode)
  const bytes = await readFile(path, options.signal === undefined ? {} : { signal: options.signal })
  let key: PrivateKey
  try {
    key = privateKeyFromProtobuf(bytes)
  } catch (err) {
    throw new IdentityInvalidError(path, 'cannot decode the protobuf key', { cause: err })
  }
  if (key.type !== 'Ed25519') throw new IdentityInvalidError(path, `key type is ${key.type}`)
  return key
}
