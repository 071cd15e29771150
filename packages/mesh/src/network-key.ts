import { generateKey } from '@libp2p/pnet'

/**
 * A new pre-shared network key, in the swarm key format of `@libp2p/pnet` (and IPFS):
 * `/key/swarm/psk/1.0.0/`, `/base16/`, 64 hex digits. Keep it secret; give it to every peer
 * of the private mesh as `networkKey`.
 */
export function generateNetworkKey (): Uint8Array {
  const key = new Uint8Array(95)
  generateKey(key)
  return key
}
