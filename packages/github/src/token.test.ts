import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { TokenError } from './errors.js'
import { redact, resolveToken, tokenFromEnv, tokenFromFile } from './token.js'

describe('token sources', () => {
  const dirs: string[] = []
  afterAll(async () => { await Promise.all(dirs.map(async (d) => await rm(d, { recursive: true, force: true }))) })

  it('reads a file, trimming the newline', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bzzz-token-'))
    dirs.push(dir)
    await writeFile(join(dir, 'token'), 'ghp_secretvalue123\n')
    expect(await resolveToken(tokenFromFile(join(dir, 'token')))).toBe('ghp_secretvalue123')
  })

  it('reads the environment', async () => {
    process.env.BZZZ_TEST_TOKEN = 'ghp_fromenv456'
    expect(await resolveToken(tokenFromEnv('BZZZ_TEST_TOKEN'))).toBe('ghp_fromenv456')
    delete process.env.BZZZ_TEST_TOKEN
    await expect(resolveToken(tokenFromEnv('BZZZ_TEST_TOKEN'))).rejects.toBeInstanceOf(TokenError)
  })

  it('a missing file is a TokenError that names the file, not its content', async () => {
    const err = await resolveToken({ file: '/nonexistent/bzzz-token' }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(TokenError)
    expect((err as TokenError).message).toContain('/nonexistent/bzzz-token')
  })

  it('redacts the token and its Basic-auth form', () => {
    const t = 'ghp_abcdef0123456789'
    const basic = Buffer.from(`x-access-token:${t}`).toString('base64')
    expect(redact(`a ${t} b Authorization: Basic ${basic}`, [t])).toBe('a [REDACTED] b Authorization: Basic [REDACTED]')
  })
})
