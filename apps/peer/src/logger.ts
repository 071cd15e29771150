// The daemon's one logger: pino JSON lines on stdout, secrets redacted by path and by value.
import { pino, type DestinationStream, type Logger } from 'pino'

/** Fields never written as they are. */
export const REDACT_PATHS = [
  'token', '*.token', 'authorization', '*.authorization', 'headers.authorization', 'headers.cookie',
  'networkKey', '*.networkKey', 'privateKey', '*.privateKey', 'password', '*.password', 'secret', '*.secret'
]

export function createLogger (options: { level?: string, secrets?: () => readonly string[], destination?: DestinationStream } = {}): Logger {
  const secrets = options.secrets ?? (() => [])
  return pino({
    level: options.level ?? 'info',
    base: { pid: process.pid },
    redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
    hooks: {
      // A secret that reached a message (an error text, a URL) is cut out of it too.
      logMethod (args, method) {
        const list = secrets().filter((s) => s.length >= 4)
        if (list.length > 0) {
          args = args.map((a) => {
            if (typeof a === 'string') return list.reduce((t, s) => t.split(s).join('[REDACTED]'), a)
            if (typeof a === 'object' && a !== null) {
              const json = JSON.stringify(a)
              if (list.some((s) => json.includes(s))) return JSON.parse(list.reduce((t, s) => t.split(s).join('[REDACTED]'), json)) as unknown
            }
            return a
          }) as typeof args
        }
        method.apply(this, args)
      }
    }
  }, options.destination ?? pino.destination(1))
}
