import { describe, expect, it } from 'vitest'
import { isLocalOnly, resolveConfig } from './config.js'
import { InvalidMeshOptionError } from './errors.js'

describe('resolveConfig', () => {
  it('defaults to TCP on every interface, a private DHT, no mDNS', () => {
    const cfg = resolveConfig({})
    expect(cfg).toMatchObject({
      meshName: 'bzzz',
      transport: 'tcp',
      listen: ['/ip4/0.0.0.0/tcp/0'],
      mdns: { enabled: false },
      dht: { enabled: true, protocol: '/bzzz/bzzz/kad/1.0.0' },
      local: false,
      maxMessageBytes: 65536,
      maxSkewMs: 300_000,
      maxConnections: 300,
      memoryLatencyMs: 0
    })
    expect(cfg.dht.protocol).not.toContain('/ipfs/')
  })

  it('has an in-process preset for many peers in one process', () => {
    const cfg = resolveConfig({ transport: 'memory', meshName: 'sim' })
    expect(cfg.listen[0]).toMatch(/^\/memory\/[0-9a-f-]{36}$/)
    expect(resolveConfig({ transport: 'memory' }).listen[0]).not.toBe(cfg.listen[0])
    expect(cfg).toMatchObject({ local: true, dht: { enabled: false }, gossip: { D: 4, ipColocationFactorWeight: 0 }, encryption: 'noise' })
    expect(resolveConfig({ transport: 'memory', encryption: 'plaintext' }).encryption).toBe('plaintext')
    expect(resolveConfig({ transport: 'memory', meshName: 'sim', dht: true }).dht).toEqual({ enabled: true, protocol: '/bzzz/sim/kad/1.0.0' })
  })

  it('treats loopback-only listeners as local', () => {
    expect(isLocalOnly(['/ip4/127.0.0.1/tcp/0'])).toBe(true)
    expect(isLocalOnly(['/ip4/127.0.0.1/tcp/0', '/ip4/0.0.0.0/tcp/0'])).toBe(false)
    expect(isLocalOnly([])).toBe(false)
    expect(resolveConfig({ listen: ['/ip4/127.0.0.1/tcp/0'] }).local).toBe(true)
  })

  it.each([
    [{ meshName: 'Bad Name' }, 'meshName'],
    [{ transport: 'udp' as never }, 'transport'],
    [{ listen: ['not-an-addr'] }, 'listen'],
    [{ bootstrap: ['/ip4/127.0.0.1/tcp/1'] }, 'bootstrap'],
    [{ transport: 'memory' as const, mdns: true }, 'mdns'],
    [{ targetConnections: 0 }, 'targetConnections'],
    [{ targetConnections: 10, maxConnections: 5 }, 'maxConnections'],
    [{ maxMessageBytes: -1 }, 'maxMessageBytes'],
    [{ memoryLatencyMs: -1 }, 'memoryLatencyMs'],
    [{ maxSkewMs: Number.NaN }, 'maxSkewMs'],
    [{ reconnect: { jitter: 1 } }, 'reconnect.jitter'],
    [{ reconnect: { factor: 0.5 } }, 'reconnect.factor'],
    [{ gossip: { D: 2, Dlo: 3 } }, 'gossip'],
    [{ gossip: { D: 0, Dlo: 0, Dhi: 0 } }, 'gossip.D'],
    [{ gossip: { D: -1, Dlo: -2, Dhi: 0 } }, 'gossip.D'],
    [{ gossip: { D: 4.5 } }, 'gossip.D'],
    [{ gossip: { Dlo: Number.NaN } }, 'gossip.Dlo'],
    [{ gossip: { Dlazy: -1 } }, 'gossip.Dlazy'],
    [{ gossip: { ipColocationFactorWeight: 1 } }, 'gossip.ipColocationFactorWeight'],
    [{ encryption: 'plaintext' as const }, 'encryption'],
    [{ transport: 'memory' as const, encryption: 'none' as never }, 'encryption']
  ])('refuses %j', (init, option) => {
    const err = (() => { try { resolveConfig(init); return undefined } catch (e) { return e } })()
    expect(err).toBeInstanceOf(InvalidMeshOptionError)
    expect(err).toMatchObject({ code: 'ERR_INVALID_MESH_OPTION', option })
  })
})
