// Secrets by file path: the GitHub token, the mesh's network key, the HTTP token. A secret
// file readable by group or others is refused, as the identity key is.
import { randomBytes } from 'node:crypto'
import { readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { MissingTokenError, SecretPermissionsError } from './errors.js'

/** Throws `SecretPermissionsError` when `path` is readable by group or others. */
export async function checkSecretMode (path: string): Promise<void> {
  const s = await stat(path)
  if ((s.mode & 0o077) !== 0) throw new SecretPermissionsError(path, s.mode)
}

/** Reads a secret file (trimmed), refusing one readable by others. */
export async function readSecretFile (path: string): Promise<string> {
  await checkSecretMode(path)
  return (await readFile(path, 'utf8')).trim()
}

/** The GitHub token: from `tokenFile` when set, else the environment variable `tokenEnv`. */
export async function resolveGitHubToken (github: { tokenFile: string | undefined, tokenEnv: string }, env: NodeJS.ProcessEnv): Promise<string> {
  if (github.tokenFile !== undefined) {
    let token: string
    try {
      token = await readSecretFile(github.tokenFile)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new MissingTokenError(`github.tokenFile ${github.tokenFile} does not exist`)
      throw err
    }
    if (token === '') throw new MissingTokenError(`github.tokenFile ${github.tokenFile} is empty`)
    return token
  }
  const token = env[github.tokenEnv]?.trim()
  if (token === undefined || token === '') {
    throw new MissingTokenError(`set github.tokenFile in the configuration, or the ${github.tokenEnv} environment variable`)
  }
  return token
}

/** The HTTP interface's token file in the data directory. */
export function httpTokenPath (dataDir: string): string {
  return join(dataDir, 'http.token')
}

/** Reads the HTTP token, creating it (mode 0600) when missing. */
export async function ensureHttpToken (dataDir: string): Promise<string> {
  const path = httpTokenPath(dataDir)
  try {
    return await readSecretFile(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  const token = randomBytes(24).toString('base64url')
  await writeFile(path, `${token}\n`, { mode: 0o600, flag: 'wx' }).catch(async (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err
  })
  return await readSecretFile(path)
}
