import { createServer } from "node:net";

/**
 * A loopback TCP port that was free a moment ago, for processes that take their port on the
 * command line (Envoy admin, etcd, kube-apiserver) and cannot report one they chose themselves.
 */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
