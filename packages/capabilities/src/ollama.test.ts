import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { PS_BODY, TAGS_BODY } from './fixtures.test.util.js'
import { ollamaBaseUrl, parseOllamaTable, parsePs, parseTags, probeOllama } from './ollama.js'

type Handler = (req: IncomingMessage, res: ServerResponse) => void

function json (res: ServerResponse, body: unknown, status = 200): void {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(JSON.stringify(body))
}

async function listen (handler: Handler): Promise<{ server: Server, url: string }> {
  const server = createServer(handler)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return { server, url: `http://127.0.0.1:${port}` }
}

async function close (server: Server): Promise<void> {
  server.closeAllConnections()
  await new Promise<void>((resolve) => server.close(() => { resolve() }))
}

const servers: Server[] = []
let dir: string
let bin: string
let emptyBin: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bzzz-caps-ollama-'))
  bin = join(dir, 'bin')
  emptyBin = join(dir, 'empty')
  await mkdir(bin)
  await mkdir(emptyBin)
})

afterEach(async () => {
  await Promise.all(servers.splice(0).map(close))
})

afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

async function ollamaServer (tags: unknown = TAGS_BODY, ps: unknown = PS_BODY): Promise<{ server: Server, url: string }> {
  const s = await listen((req, res) => {
    if (req.url === '/api/tags') json(res, tags)
    else if (req.url === '/api/ps') json(res, ps)
    else json(res, { error: 'not found' }, 404)
  })
  servers.push(s.server)
  return s
}

async function fakeOllama (name: string, list: string, ps: string, code = 0): Promise<string> {
  const path = join(bin, name)
  await writeFile(path, `#!/bin/sh
case "$1" in
  list) printf '%b' "${list}" ;;
  ps) printf '%b' "${ps}" ;;
esac
${code !== 0 ? `echo "Error: could not connect to ollama app, is it running?" >&2\nexit ${code}` : ''}
`)
  await chmod(path, 0o755)
  return path
}

describe('parsing', () => {
  it('reads the documented /api/tags and /api/ps bodies', () => {
    expect(parseTags(TAGS_BODY)).toEqual([
      { name: 'deepseek-r1:latest', size: 4683075271, digest: TAGS_BODY.models[0]?.digest, modifiedAt: '2025-05-10T08:06:48.639712648-07:00', family: 'qwen2', parameterSize: '7.6B', quantizationLevel: 'Q4_K_M' },
      { name: 'llama3.2:latest', size: 2019393189, digest: TAGS_BODY.models[1]?.digest, modifiedAt: '2025-05-04T17:37:44.706015396-07:00', family: 'llama', parameterSize: '3.2B', quantizationLevel: 'Q4_K_M' }
    ])
    expect(parsePs(PS_BODY)).toEqual([
      { name: 'llama3.2:latest', size: 5137025024, sizeVram: 5137025024, expiresAt: '2024-06-04T14:38:31.83753-07:00' }
    ])
  })

  it('accepts an empty list, sent as [] or null, and rejects what is not a list', () => {
    expect(parseTags({ models: [] })).toEqual([])
    expect(parseTags({ models: null })).toEqual([])
    expect(parseTags({})).toBeUndefined()
    expect(parseTags([])).toBeUndefined()
    expect(parsePs('x')).toBeUndefined()
    expect(parseTags({ models: [1, { size: 3 }, { model: 'm:1' }] })).toEqual([{ name: 'm:1' }])
  })

  it('never throws on any JSON value', () => {
    fc.assert(fc.property(fc.jsonValue(), (v) => {
      parseTags(v)
      parsePs(v)
      parseTags({ models: [v] })
    }))
  })

  it('reads the tables of `ollama list` and `ollama ps`', () => {
    const list = 'NAME                  ID              SIZE      MODIFIED\nllama3.2:latest       a80c4f17acd5    2.0 GB    2 weeks ago\nqwen2.5-coder:7b      2b0496514337    4.7 GB    3 days ago\n'
    expect(parseOllamaTable(list)).toEqual(['llama3.2:latest', 'qwen2.5-coder:7b'])
    expect(parseOllamaTable('NAME    ID    SIZE    PROCESSOR    UNTIL\n')).toEqual([])
    expect(parseOllamaTable('')).toEqual([])
  })

  it.each([
    [undefined, 'http://127.0.0.1:11434'],
    ['', 'http://127.0.0.1:11434'],
    ['127.0.0.1', 'http://127.0.0.1:11434'],
    ['0.0.0.0:11434', 'http://127.0.0.1:11434'],
    ['[::]:8080', 'http://[::1]:8080'],
    ['gpu-box', 'http://gpu-box:11434'],
    ['http://gpu-box:9000/', 'http://gpu-box:9000'],
    ['https://example.com/ollama/', 'https://example.com/ollama']
  ])('ollamaBaseUrl(%j) is %j', (host, url) => {
    expect(ollamaBaseUrl(host)).toBe(url)
  })

  it('ollamaBaseUrl refuses other schemes', () => {
    expect(() => ollamaBaseUrl('ftp://x')).toThrow(TypeError)
  })
})

describe('probeOllama', () => {
  it('lists installed and loaded models from the HTTP API', async () => {
    const { url } = await ollamaServer()
    const state = await probeOllama({ baseUrl: url, env: { PATH: emptyBin }, timeoutMs: 5000 })
    expect(state).toMatchObject({ available: true, source: 'api', host: url })
    if (!state.available) throw new Error('unreachable')
    expect(state.models.map((m) => m.name)).toEqual(['deepseek-r1:latest', 'llama3.2:latest'])
    expect(state.loaded).toEqual([{ name: 'llama3.2:latest', size: 5137025024, sizeVram: 5137025024, expiresAt: '2024-06-04T14:38:31.83753-07:00' }])
    expect(state.apiAbsence).toBeUndefined()
  })

  it('keeps the installed models when /api/ps fails, and says why', async () => {
    const s = await listen((req, res) => {
      if (req.url === '/api/tags') json(res, TAGS_BODY)
      else json(res, { error: 'boom' }, 500)
    })
    servers.push(s.server)
    const state = await probeOllama({ baseUrl: s.url, env: { PATH: emptyBin }, timeoutMs: 5000 })
    expect(state).toMatchObject({ available: true, source: 'api', loaded: [], apiAbsence: { reason: 'failed' } })
  })

  it('says not installed when nothing answers and no ollama is on the PATH (the server stopped)', async () => {
    const { server, url } = await ollamaServer()
    expect((await probeOllama({ baseUrl: url, env: { PATH: emptyBin }, timeoutMs: 5000 })).available).toBe(true)
    await close(server)
    servers.splice(servers.indexOf(server), 1)
    const state = await probeOllama({ baseUrl: url, env: { PATH: emptyBin }, timeoutMs: 5000 })
    expect(state).toMatchObject({
      available: false,
      host: url,
      absence: { reason: 'not-installed' },
      api: { reason: 'not-running' },
      cli: { reason: 'not-installed' }
    })
  })

  it('falls back on `ollama list` and `ollama ps` when the API does not answer', async () => {
    const { server, url } = await ollamaServer()
    await close(server)
    servers.splice(servers.indexOf(server), 1)
    await fakeOllama('ollama', 'NAME               ID              SIZE      MODIFIED\\nmistral:latest     f974a74358d6    4.1 GB    5 days ago\\n', 'NAME               ID              SIZE      PROCESSOR    UNTIL\\nmistral:latest     f974a74358d6    5.4 GB    100% GPU     4 minutes from now\\n')
    const state = await probeOllama({ baseUrl: url, env: { PATH: bin }, timeoutMs: 5000 })
    expect(state).toEqual({
      available: true,
      source: 'cli',
      host: url,
      models: [{ name: 'mistral:latest' }],
      loaded: [{ name: 'mistral:latest' }],
      apiAbsence: expect.objectContaining({ reason: 'not-running' }) as unknown
    })
  })

  it('says not running when the CLI is there but cannot reach a server either', async () => {
    const { server, url } = await ollamaServer()
    await close(server)
    servers.splice(servers.indexOf(server), 1)
    await fakeOllama('ollama-down', '', '', 1)
    const state = await probeOllama({ baseUrl: url, env: { PATH: bin }, timeoutMs: 5000, command: 'ollama-down' })
    expect(state).toMatchObject({ available: false, absence: { reason: 'not-running' }, api: { reason: 'not-running' }, cli: { reason: 'failed' } })
    if (state.available) throw new Error('unreachable')
    expect(state.cli.detail).toContain('could not connect')
  })

  it('says timed out when the API accepts but never answers', async () => {
    const s = await listen(() => { /* never answers */ })
    servers.push(s.server)
    const started = Date.now()
    const state = await probeOllama({ baseUrl: s.url, env: { PATH: emptyBin }, timeoutMs: 500 })
    expect(Date.now() - started).toBeLessThan(20_000)
    expect(state).toMatchObject({ available: false, absence: { reason: 'timed-out' }, api: { reason: 'timed-out' } })
  })

  it('says failed when the API answers an error or something that is not a model list', async () => {
    for (const handler of [
      ((_req, res) => { json(res, { error: 'x' }, 500) }) as Handler,
      ((_req, res) => { res.end('<html>') }) as Handler,
      ((_req, res) => { json(res, { something: 'else' }) }) as Handler
    ]) {
      const s = await listen(handler)
      servers.push(s.server)
      const state = await probeOllama({ baseUrl: s.url, env: { PATH: emptyBin }, timeoutMs: 5000 })
      expect(state).toMatchObject({ available: false, absence: { reason: 'failed' } })
    }
  })

  it('rejects with the abort reason when aborted', async () => {
    const s = await listen(() => { /* never answers */ })
    servers.push(s.server)
    const controller = new AbortController()
    const p = probeOllama({ baseUrl: s.url, env: { PATH: emptyBin }, timeoutMs: 60_000, signal: controller.signal })
    setTimeout(() => { controller.abort(new Error('stopping')) }, 100)
    await expect(p).rejects.toThrow('stopping')
  })
})
