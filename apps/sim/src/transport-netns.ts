/**
 * `transport: netns`: every peer a `bzzz start` daemon process (as with `tcp`) in a network
 * namespace of its own, found by mDNS only: the daemon's configuration turns mDNS on and lists
 * no bootstrap peer. The namespaces, the bridge and the route to the forge are made for the
 * run and removed after it (see netns.ts); mDNS never runs on the machine's own interfaces.
 * Needs root and iproute2.
 */
import { daemonNodeFactory, type DaemonFacts } from './daemon-node.js'
import { NetnsError } from './errors.js'
import { openNetnsNetwork, type NetnsNetwork } from './netns.js'
import type { SimTransport } from './node.js'
import type { Scenario } from './scenario.js'

/** Each namespace has its own ports: every daemon listens on the same ones. */
export const NETNS_MESH_PORT = 4001
export const NETNS_HTTP_PORT = 4600

export function netnsTransport (agent: Scenario['agent'], init: { observe?: (facts: DaemonFacts) => void } = {}): SimTransport {
  let net: NetnsNetwork | undefined
  return {
    network: (peers) => {
      net = openNetnsNetwork(peers)
      const opened = net
      return { forgeHost: opened.plan.forgeHost, close: () => { opened.close() } }
    },
    nodeFactory: daemonNodeFactory(agent, {
      placement: (spec) => {
        if (net === undefined) throw new NetnsError('transport netns: the network is not up (runScenario needs the transport\'s `network`)')
        return { wrap: net.wrap(spec.index), host: net.plan.peerHost(spec.index), meshPort: NETNS_MESH_PORT, httpPort: NETNS_HTTP_PORT, mdns: true }
      },
      ...(init.observe !== undefined ? { observe: init.observe } : {})
    })
  }
}
