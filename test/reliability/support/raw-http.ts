import { connect } from "node:net";

export interface RawResponse {
  readonly status: number;
  readonly headers: ReadonlyMap<string, string>;
  readonly body: string;
}

/**
 * Sends one HTTP/1.1 request whose header lines are written byte for byte (`latin1` strings:
 * one char per byte), for inputs no HTTP client will send: control characters, bare CR or LF,
 * illegal name characters. `Connection: close`, so the response is everything until EOF.
 */
export function sendRawRequest(
  port: number,
  authority: string,
  lines: readonly (readonly [name: string, value: string])[],
  options: { path?: string; timeoutMs?: number } = {},
): Promise<RawResponse> {
  const head = [`GET ${options.path ?? "/hostile"} HTTP/1.1`, `host: ${authority}`, ...lines.map(([name, value]) => `${name}: ${value}`), "connection: close", "", ""].join("\r\n");
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => socket.destroy(new Error(`raw request timed out after ${options.timeoutMs ?? 15_000} ms`)), options.timeoutMs ?? 15_000);
    // write, not end: Envoy treats a half-close from the client as the end of the connection.
    socket.on("connect", () => socket.write(Buffer.from(head, "latin1")));
    socket.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      // Close as soon as the answer is complete: Envoy delays its own close after
      // "connection: close" (delayed_close_timeout, 1 s) waiting for the client to go first.
      const parsed = parseResponse(Buffer.concat(chunks));
      if (parsed !== undefined) {
        clearTimeout(timer);
        socket.destroy();
        resolve(parsed);
      }
    });
    socket.on("error", (error) => {
      clearTimeout(timer);
      // A reset after a complete answer is still that answer.
      const parsed = parseResponse(Buffer.concat(chunks), true);
      if (parsed !== undefined) resolve(parsed);
      else reject(error);
    });
    socket.on("close", () => {
      clearTimeout(timer);
      const parsed = parseResponse(Buffer.concat(chunks), true);
      if (parsed !== undefined) resolve(parsed);
      else reject(new Error(`connection closed without an HTTP response (${chunks.length} chunks)`));
    });
  });
}

/** Status, headers and body (de-chunked) of one HTTP/1.1 response; undefined when incomplete. */
export function parseResponse(bytes: Buffer, closed = false): RawResponse | undefined {
  const end = bytes.indexOf("\r\n\r\n");
  if (end === -1) return undefined;
  const [statusLine, ...headerLines] = bytes.subarray(0, end).toString("latin1").split("\r\n");
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? "");
  if (match === null) return undefined;
  const headers = new Map<string, string>();
  for (const line of headerLines) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  let body = bytes.subarray(end + 4);
  if (headers.get("transfer-encoding")?.toLowerCase() === "chunked") {
    const parts: Buffer[] = [];
    let at = 0;
    for (;;) {
      const lineEnd = body.indexOf("\r\n", at);
      if (lineEnd === -1) return undefined;
      const size = Number.parseInt(body.subarray(at, lineEnd).toString("latin1"), 16);
      if (!Number.isFinite(size)) return undefined;
      if (size === 0) break;
      parts.push(body.subarray(lineEnd + 2, lineEnd + 2 + size));
      at = lineEnd + 2 + size + 2;
    }
    body = Buffer.concat(parts);
  } else {
    const length = headers.get("content-length");
    // Without a length the body ends with the connection.
    if (length === undefined ? !closed : body.length < Number(length)) return undefined;
    // Bytes past the length belong to a next response (Envoy answers leftover bytes as a request).
    if (length !== undefined) body = body.subarray(0, Number(length));
  }
  return { status: Number(match[1]), headers, body: body.toString("utf8") };
}
