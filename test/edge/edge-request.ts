import { request } from "node:http";

export interface EdgeResponse {
  readonly status: number;
  readonly text: string;
  /** The test upstream's JSON answer ({ service, version, headers }), when it is one. */
  readonly upstream: { service: string; version: string; headers: Record<string, string | string[] | undefined> } | undefined;
}

/**
 * One HTTP/1.1 request to a listener on 127.0.0.1 from a chosen local address (`from`), so a
 * client can stand in for a trusted (127.0.0.2) or untrusted (127.0.0.1) network. Arrays are
 * sent as repeated header lines. A fresh connection each time.
 */
export function sendToListener(
  port: number,
  options: { from?: string; path?: string; authority?: string; headers?: Record<string, string | readonly string[]> },
): Promise<EdgeResponse> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(options.headers ?? {})) headers[name] = typeof value === "string" ? value : [...value];
    const req = request(
      {
        host: "127.0.0.1",
        port,
        localAddress: options.from ?? "127.0.0.1",
        path: options.path ?? "/",
        method: "GET",
        agent: false,
        headers: { ...headers, host: options.authority ?? "shop.example.com" },
        timeout: 20_000,
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (text += chunk));
        res.on("end", () => {
          let upstream: EdgeResponse["upstream"];
          if ((res.headers["content-type"] ?? "").includes("application/json")) {
            try {
              upstream = JSON.parse(text) as EdgeResponse["upstream"];
            } catch {
              upstream = undefined;
            }
          }
          resolve({ status: res.statusCode ?? 0, text, upstream });
        });
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`request to 127.0.0.1:${port} timed out`)));
    req.on("error", reject);
    req.end();
  });
}
