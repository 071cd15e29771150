// The rendezvous order of the known peers for a task key, cached: it depends only on the key and
// the set of peer ids, and every plan asks it for every claimable task. One cache per process
// (the simulation runs many nodes that know the same peers), bounded.
import { createHash } from 'node:crypto'
import { rendezvousRank } from '@bzzz/state'

const MAX_ENTRIES = 50_000
const cache = new Map<string, readonly string[]>()
let lastIds: readonly string[] | undefined
let lastSignature = ''

function signatureOf (ids: readonly string[]): string {
  if (ids === lastIds) return lastSignature
  lastIds = ids
  lastSignature = createHash('sha256').update([...ids].sort().join(',')).digest('base64url')
  return lastSignature
}

/** `ids` ordered by rendezvous weight for `key`, highest first (see @bzzz/state's `rendezvousRank`). */
export function rendezvousOrder (key: string, ids: readonly string[]): readonly string[] {
  const k = `${key}\n${signatureOf(ids)}`
  const hit = cache.get(k)
  if (hit !== undefined) return hit
  const order = rendezvousRank(key, ids)
  if (cache.size >= MAX_ENTRIES) cache.delete(cache.keys().next().value!)
  cache.set(k, order)
  return order
}
