import { Agent, request } from "node:http";

/** One kind of request the load sends, and the version that must answer it. */
export interface LoadCase {
  readonly host: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly expect: string;
}

export interface LoadResult {
  readonly sent: number;
  /** Requests that got no answer, or an answer other than 200. */
  readonly failed: number;
  /** 200 answers from a version other than the expected one. */
  readonly wrong: number;
  /** The first few failures and wrong routes, for the failure message. */
  readonly samples: readonly string[];
}

export interface RouteLoad {
  /** Counts so far. */
  result(): LoadResult;
  stop(): Promise<LoadResult>;
}

/**
 * Steady requests through a sidecar listener, `concurrency` at a time over kept-alive
 * connections (as an application's HTTP client sends them), each checked against the version
 * that must serve it.
 */
export function startRouteLoad(port: number, cases: readonly LoadCase[], concurrency = 4): RouteLoad {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  let stopped = false;
  let sent = 0;
  let failed = 0;
  let wrong = 0;
  const samples: string[] = [];
  const note = (text: string) => {
    if (samples.length < 10) samples.push(`${new Date().toISOString()} ${text}`);
  };
  const once = (testCase: LoadCase) =>
    new Promise<void>((resolve) => {
      sent++;
      const req = request({ host: "127.0.0.1", port, path: "/", agent, headers: { ...testCase.headers, host: testCase.host }, timeout: 10_000 }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (body += chunk));
        res.on("end", () => {
          if (res.statusCode !== 200) {
            failed++;
            note(`${res.statusCode} for ${JSON.stringify(testCase.headers)}: ${body.slice(0, 200)}`);
          } else {
            const version = (JSON.parse(body) as { version?: string }).version;
            if (version !== testCase.expect) {
              wrong++;
              note(`${version} instead of ${testCase.expect} for ${JSON.stringify(testCase.headers)}`);
            }
          }
          resolve();
        });
      });
      req.on("timeout", () => req.destroy(new Error("timed out")));
      req.on("error", (error) => {
        failed++;
        note(`${error.message} for ${JSON.stringify(testCase.headers)}`);
        resolve();
      });
      req.end();
    });
  const workers = Array.from({ length: concurrency }, async (_, worker) => {
    for (let index = worker; !stopped; index += concurrency) await once(cases[index % cases.length]!);
  });
  const result = () => ({ sent, failed, wrong, samples: [...samples] });
  return {
    result,
    async stop() {
      stopped = true;
      await Promise.all(workers);
      agent.destroy();
      return result();
    },
  };
}
