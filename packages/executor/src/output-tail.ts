// Reads a growing output file from an offset, line by line, as a process writes it (a file,
// not a pipe: a pipe would cut at 64 KiB when the reader lags, and ties the writer to us).
import { open, type FileHandle } from 'node:fs/promises'
import { StringDecoder } from 'node:string_decoder'

export interface FileLines {
  /** Reads what is new; returns complete lines (and, with `final`, the unterminated rest). */
  read: (final?: boolean) => Promise<{ lines: string[], bytes: number }>
  /** Bytes read so far. */
  readonly size: number
  close: () => Promise<void>
}

export async function followFile (path: string, chunkBytes = 256 * 1024): Promise<FileLines> {
  const handle: FileHandle = await open(path, 'r')
  const decoder = new StringDecoder('utf8')
  const buffer = Buffer.alloc(chunkBytes)
  let offset = 0
  let partial = ''
  return {
    get size () { return offset },
    read: async (final = false) => {
      let text = ''
      let bytes = 0
      for (;;) {
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, offset)
        if (bytesRead === 0) break
        offset += bytesRead
        bytes += bytesRead
        text += decoder.write(buffer.subarray(0, bytesRead))
        if (bytesRead < buffer.length) break
      }
      if (final) text += decoder.end()
      const all = partial + text
      const lines = all.split('\n')
      partial = lines.pop() ?? ''
      if (final && partial !== '') { lines.push(partial); partial = '' }
      return { lines, bytes }
    },
    close: async () => { await handle.close() }
  }
}

/** Keeps the last `max` characters of text appended line by line. */
export function createTail (max: number): { push: (line: string) => void, text: () => string } {
  let parts: string[] = []
  let size = 0
  return {
    push: (line) => {
      parts.push(line)
      size += line.length + 1
      if (size > max * 2) {
        const joined = parts.join('\n')
        parts = [joined.slice(joined.length - max)]
        size = parts[0]!.length
      }
    },
    text: () => {
      const joined = parts.join('\n')
      return joined.length <= max ? joined : joined.slice(joined.length - max)
    }
  }
}
