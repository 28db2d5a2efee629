import { request } from "node:http";

export interface SidecarResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  /** The JSON body of a test upstream ({ service, version, headers }), when it is one. */
  readonly upstream: { service: string; version: string; headers: Record<string, string | string[] | undefined> } | undefined;
}

/**
 * Sends one HTTP/1.1 request to a sidecar listener with an explicit Host (the peer's name), as
 * an app behind a transparent sidecar would. A fresh connection each time, so nothing is left
 * pooled across Envoy or server restarts. Arrays become repeated header lines.
 */
export function sendThroughSidecar(
  port: number,
  authority: string,
  options: { path?: string; headers?: Record<string, string | readonly string[]> } = {},
): Promise<SidecarResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port, path: options.path ?? "/", method: "GET", agent: false, headers: { ...options.headers, host: authority }, timeout: 20_000 },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (text += chunk));
        res.on("end", () => {
          let upstream: SidecarResponse["upstream"];
          if ((res.headers["content-type"] ?? "").includes("application/json")) {
            try {
              upstream = JSON.parse(text) as SidecarResponse["upstream"];
            } catch {
              upstream = undefined;
            }
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, upstream });
        });
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`request to 127.0.0.1:${port} (Host ${authority}) timed out`)));
    req.on("error", reject);
    req.end();
  });
}
