import { createServer, type Server } from "node:net";
import { DetourError } from "@detour/core";

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: "127.0.0.1", port, exclusive: true }, () => {
      const address = server.address();
      resolve(typeof address === "object" && address ? address.port : port);
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/**
 * Picks `count` distinct free loopback ports by binding port 0 that many times at once, then
 * releases them for the processes that will bind them. Another program could take one in the
 * gap; that shows up as a child that fails to bind and is reported like any crash.
 */
export async function pickFreePorts(count: number): Promise<number[]> {
  const servers = Array.from({ length: count }, () => createServer());
  try {
    return await Promise.all(servers.map((server) => listen(server, 0)));
  } finally {
    await Promise.all(servers.map((server) => (server.listening ? close(server) : undefined)));
  }
}

/** Throws a DetourError naming the port and the way out when 127.0.0.1:port cannot be bound. */
export async function assertPortFree(port: number, flag = "--port"): Promise<void> {
  if (port === 0) return;
  const server = createServer();
  try {
    await listen(server, port);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE") {
      throw new DetourError("port-busy", `port ${port} on 127.0.0.1 is already in use by another program: stop it, or pass ${flag} with a free port (${flag} 0 picks one)`);
    }
    if (code === "EACCES") {
      throw new DetourError("port-busy", `port ${port} needs privileges this user does not have: pass ${flag} with a port above 1023`);
    }
    throw error;
  } finally {
    if (server.listening) await close(server);
  }
}
