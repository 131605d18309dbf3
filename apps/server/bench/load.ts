/**
 * The HTTP load generator of the daemon benchmark, run as its own process (`bench/server.ts` starts it): `connections`
 * keep-alive loopback connections, each sending one prepared HTTP/1.1 request, waiting for the whole response, and
 * sending the next (no pipelining), for `durationMs`. Prints one JSON line: requests, non-2xx answers, connection
 * errors, requests/s and latency percentiles.
 *
 * Raw sockets and prepared request bytes keep the generator cheap (like autocannon, without a dependency): on a
 * 2-core machine it shares the CPU with the server under test, and a heavier client would flatten the ratios.
 */
import * as Net from "node:net"
import { performance } from "node:perf_hooks"

interface Config {
  readonly port: number
  readonly method: string
  readonly path: string
  readonly headers?: Readonly<Record<string, string>>
  readonly body?: string
  readonly connections: number
  readonly durationMs: number
}

const config = JSON.parse(process.argv[2] ?? "{}") as Config
const body = config.body ?? ""
const request = Buffer.from(
  `${config.method} ${config.path} HTTP/1.1\r\nhost: 127.0.0.1:${config.port}\r\n` +
    Object.entries(config.headers ?? {})
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join("") +
    (config.method === "GET" ? "" : `content-length: ${Buffer.byteLength(body)}\r\n`) +
    `\r\n${body}`
)

const latencies: Array<number> = []
let requests = 0
let non2xx = 0
let errors = 0
let running = true
const HEADER_END = Buffer.from("\r\n\r\n")
const CHUNKED_END = Buffer.from("0\r\n\r\n")

/** Length of the first complete response in `buffer` (0 if incomplete), and its status. */
const complete = (buffer: Buffer): { readonly length: number; readonly status: number } => {
  const headerEnd = buffer.indexOf(HEADER_END)
  if (headerEnd < 0) return { length: 0, status: 0 }
  const head = buffer.toString("latin1", 0, headerEnd).toLowerCase()
  const status = Number(head.slice(9, 12))
  const match = /\r\ncontent-length: *(\d+)/.exec(head)
  if (match !== null) {
    const length = headerEnd + 4 + Number(match[1])
    return { length: buffer.length >= length ? length : 0, status }
  }
  if (head.includes("transfer-encoding: chunked")) {
    const end = buffer.indexOf(CHUNKED_END, headerEnd + 4)
    return { length: end < 0 ? 0 : end + CHUNKED_END.length, status }
  }
  return { length: headerEnd + 4, status }
}

const connection = () =>
  new Promise<void>((resolve) => {
    const socket = Net.connect({ host: "127.0.0.1", port: config.port, noDelay: true })
    let buffer = Buffer.alloc(0)
    let sentAt = 0
    const send = () => {
      if (!running) {
        socket.end()
        return resolve()
      }
      sentAt = performance.now()
      socket.write(request)
    }
    socket.on("connect", send)
    socket.on("data", (chunk) => {
      buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk])
      const { length, status } = complete(buffer)
      if (length === 0) return
      buffer = buffer.subarray(length)
      requests++
      latencies.push(performance.now() - sentAt)
      if (status < 200 || status >= 300) non2xx++
      send()
    })
    socket.on("error", () => {
      errors++
      resolve()
    })
    socket.on("close", () => resolve())
  })

const started = performance.now()
setTimeout(() => (running = false), config.durationMs)
await Promise.all(Array.from({ length: config.connections }, connection))
const elapsed = performance.now() - started
latencies.sort((a, b) => a - b)
const percentile = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]
console.log(
  JSON.stringify({
    requests,
    non2xx,
    errors,
    rps: (requests / elapsed) * 1000,
    p50: percentile(50) ?? null,
    p99: percentile(99) ?? null
  })
)
