import { createHash } from 'node:crypto'

// A node ranks the same peers for the same keys again and again (the watcher election on every
// tick): each weight is hashed once, remembered, oldest forgotten first past a bound.
const weights = new Map<string, bigint>()
const WEIGHTS_MAX = 65_536

/**
 * The rendezvous (highest-random-weight) weight of `peerId` for `key`: the first 64 bits of
 * SHA-256(key, NUL, peerId), big-endian. Every peer computes the same number.
 */
export function rendezvousWeight (key: string, peerId: string): bigint {
  const k = `${key}\0${peerId}`
  let w = weights.get(k)
  if (w === undefined) {
    w = createHash('sha256').update(key).update('\0').update(peerId).digest().readBigUInt64BE(0)
    if (weights.size >= WEIGHTS_MAX) weights.delete(weights.keys().next().value!)
    weights.set(k, w)
  }
  return w
}


/**
 * `peers` ordered by rendezvous weight for `key`, highest first (ties, which need a 64-bit
 * collision, by peer id). Duplicates are dropped. Adding or removing one peer among N moves
 * only the keys that peer wins or won: about 1/N of them.
 */
export function rendezvousRank (key: string, peers: Iterable<string>): string[] {
  const weighted = [...new Set(peers)].map((id) => ({ id, w: rendezvousWeight(key, id) }))
  weighted.sort((a, b) => (a.w === b.w ? (a.id < b.id ? -1 : a.id > b.id ? 1 : 0) : a.w > b.w ? -1 : 1))
  return weighted.map((p) => p.id)
}
