import { readFile } from 'node:fs/promises'
import { TokenError } from './errors.js'

/**
 * Where the GitHub token comes from: a file (e.g. a mounted secret), an environment
 * variable, or a function. A literal string is accepted for tests and embedding.
 */
export type TokenSource =
  | { file: string }
  | { env: string }
  | (() => string | Promise<string>)
  | string

/** Reads a token from a file; surrounding whitespace (a trailing newline) is dropped. */
export function tokenFromFile (path: string): TokenSource {
  return { file: path }
}

/** Reads a token from an environment variable (default `GITHUB_TOKEN`). */
export function tokenFromEnv (name = 'GITHUB_TOKEN'): TokenSource {
  return { env: name }
}

/** Resolves a token source to the token; the error never carries the token, only where it was looked for. */
export async function resolveToken (source: TokenSource): Promise<string> {
  let token: string | undefined
  let where: string
  if (typeof source === 'string') {
    where = 'a literal'
    token = source
  } else if (typeof source === 'function') {
    where = 'a function'
    token = await source()
  } else if ('file' in source) {
    where = `file ${source.file}`
    try {
      token = await readFile(source.file, 'utf8')
    } catch (err) {
      throw new TokenError(`cannot read the token from ${where}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, where)
    }
  } else {
    where = `environment variable ${source.env}`
    token = process.env[source.env]
  }
  token = token?.trim()
  if (token === undefined || token === '') throw new TokenError(`no token in ${where}`, where)
  if (/\s/.test(token)) throw new TokenError(`the token in ${where} contains whitespace`, where)
  return token
}

/**
 * Replaces every occurrence of each secret (and of its Base64 forms used in HTTP Basic
 * auth) with `[REDACTED]`. Used on every error message and log line this package emits.
 */
export function redact (text: string, secrets: readonly string[]): string {
  let out = text
  for (const secret of secrets) {
    if (secret.length < 4) continue
    for (const form of secretForms(secret)) out = out.split(form).join('[REDACTED]')
  }
  return out
}

function secretForms (secret: string): string[] {
  return [
    secret,
    Buffer.from(`x-access-token:${secret}`).toString('base64'),
    encodeURIComponent(secret)
  ]
}
