// `bzzz init`: a data directory (0700), an identity key (0600), the HTTP token, optionally a
// private mesh key, and a configuration file. Asks nothing when flags give the answers; never
// overwrites anything.
import { existsSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { generateNetworkKey, loadOrCreateIdentity } from '@bzzz/mesh'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { stringify } from 'yaml'
import { validateConfig } from './config.js'
import type { ConfigFile } from './config-schema.js'
import { AlreadyInitialisedError } from './errors.js'
import { ensureHttpToken } from './secrets.js'

export interface InitOptions {
  dataDir: string
  configPath?: string
  name?: string
  repos?: string[]
  tokenFile?: string
  apiUrl?: string
  gitUrl?: string
  listen?: string[]
  bootstrap?: string[]
  httpPort?: number
  networkKey?: boolean
  gitName?: string
  gitEmail?: string
}

export interface InitResult {
  configPath: string
  identityPath: string
  peerId: string
  networkKeyPath: string | undefined
}

export async function initNode (options: InitOptions): Promise<InitResult> {
  const dataDir = resolve(options.dataDir)
  const configPath = resolve(options.configPath ?? join(dataDir, 'config.yaml'))
  const identityPath = join(dataDir, 'identity.key')
  const networkKeyPath = options.networkKey === true ? join(dataDir, 'network.key') : undefined
  for (const p of [configPath, identityPath, ...(networkKeyPath !== undefined ? [networkKeyPath] : [])]) {
    if (existsSync(p)) throw new AlreadyInitialisedError(p)
  }
  const file: ConfigFile = {
    ...(options.name !== undefined ? { name: options.name } : {}),
    dataDir,
    github: {
      ...(options.apiUrl !== undefined ? { apiUrl: options.apiUrl } : {}),
      ...(options.gitUrl !== undefined ? { gitUrl: options.gitUrl } : {}),
      ...(options.tokenFile !== undefined ? { tokenFile: resolve(options.tokenFile) } : {})
    },
    repos: options.repos ?? [],
    mesh: {
      ...(options.listen !== undefined ? { listen: options.listen } : {}),
      bootstrap: options.bootstrap ?? [],
      ...(networkKeyPath !== undefined ? { networkKeyFile: networkKeyPath } : {})
    },
    ...(options.httpPort !== undefined ? { http: { port: options.httpPort } } : {}),
    ...(options.gitName !== undefined || options.gitEmail !== undefined
      ? { git: { ...(options.gitName !== undefined ? { name: options.gitName } : {}), ...(options.gitEmail !== undefined ? { email: options.gitEmail } : {}) } }
      : {})
  }
  validateConfig(file, 'the init flags')
  await mkdir(dataDir, { recursive: true, mode: 0o700 })
  const key = await loadOrCreateIdentity(identityPath)
  await ensureHttpToken(dataDir)
  if (networkKeyPath !== undefined) await writeFile(networkKeyPath, generateNetworkKey(), { mode: 0o600, flag: 'wx' })
  await mkdir(dirname(configPath), { recursive: true, mode: 0o700 })
  const header = '# bzzz configuration: every setting and its default is in docs/peer.md.\n' +
    '# BZZZ_* environment variables override it (BZZZ_HTTP__PORT=7702); `kill -HUP` reloads it.\n'
  await writeFile(configPath, header + stringify(file), { mode: 0o600, flag: 'wx' })
  return { configPath, identityPath, peerId: peerIdFromPrivateKey(key).toString(), networkKeyPath }
}
