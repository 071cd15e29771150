import { createHash } from 'node:crypto'

/** A JSON value as the log and the ledger accept it: finite numbers, no `undefined`. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue }

/** Thrown by `canonicalJson` for a value JSON cannot represent exactly. */
export class NotCanonicalError extends Error {
  readonly code = 'ERR_NOT_CANONICAL'
  readonly path: string
  constructor (path: string, what: string) {
    super(`${path === '' ? 'value' : path} ${what}`)
    this.name = 'NotCanonicalError'
    this.path = path
  }
}

function write (value: unknown, path: string, out: string[], depth: number): void {
  if (depth > 64) throw new NotCanonicalError(path, 'is nested too deeply')
  if (value === null) { out.push('null'); return }
  switch (typeof value) {
    case 'boolean': out.push(value ? 'true' : 'false'); return
    case 'string': out.push(JSON.stringify(value)); return
    case 'number':
      if (!Number.isFinite(value)) throw new NotCanonicalError(path, 'is not a finite number')
      out.push(JSON.stringify(value)) // -0 becomes 0: ECMAScript's number printing is deterministic
      return
    case 'object': {
      if (Array.isArray(value)) {
        out.push('[')
        // Every index, holes included (`forEach` would skip them, and `[1,,3]` would come out
        // as `[1,3]` while JSON gives `[1,null,3]`: the hash would not survive a JSON round trip).
        for (let i = 0; i < value.length; i++) {
          if (i > 0) out.push(',')
          if (!Object.hasOwn(value, i)) throw new NotCanonicalError(`${path}/${i}`, 'is a hole in a sparse array')
          const v: unknown = value[i]
          if (v === undefined) throw new NotCanonicalError(`${path}/${i}`, 'is undefined')
          write(v, `${path}/${i}`, out, depth + 1)
        }
        out.push(']')
        return
      }
      const proto = Object.getPrototypeOf(value) as unknown
      if (proto !== Object.prototype && proto !== null) throw new NotCanonicalError(path, 'is not a plain object')
      const keys = Object.keys(value).filter((k) => (value as Record<string, unknown>)[k] !== undefined).sort()
      out.push('{')
      keys.forEach((k, i) => {
        if (i > 0) out.push(',')
        out.push(JSON.stringify(k), ':')
        write((value as Record<string, unknown>)[k], `${path}/${k}`, out, depth + 1)
      })
      out.push('}')
      return
    }
    default:
      throw new NotCanonicalError(path, `is a ${typeof value}, which JSON cannot hold`)
  }
}

/**
 * Deterministic JSON: object keys sorted by UTF-16 code units, no whitespace, object
 * members whose value is `undefined` left out (as `JSON.stringify` does). Equal values give
 * equal strings on every peer; throws `NotCanonicalError` for NaN, Infinity, functions,
 * `undefined` array items, holes of sparse arrays and non-plain objects. Whatever it accepts
 * survives a JSON round trip: `canonicalJson(JSON.parse(canonicalJson(v))) === canonicalJson(v)`.
 */
export function canonicalJson (value: unknown): string {
  const out: string[] = []
  write(value, '', out, 0)
  return out.join('')
}

export function sha256 (data: string | Uint8Array): Uint8Array {
  return createHash('sha256').update(data).digest()
}

export function sha256Hex (data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex')
}
