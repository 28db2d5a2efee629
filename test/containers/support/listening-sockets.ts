import { readdirSync, readFileSync, readlinkSync } from "node:fs";

export interface ListeningSocket {
  readonly pid: number;
  readonly address: string;
  readonly port: number;
}

/** "0100007F:1F90" (little-endian IPv4) or the 32-hex-digit IPv6 form of /proc/net/tcp6. */
function decodeAddress(hex: string): string {
  if (hex.length === 8) return [3, 2, 1, 0].map((i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16)).join(".");
  const words: string[] = [];
  for (let w = 0; w < 4; w++) {
    const word = hex.slice(w * 8, w * 8 + 8);
    const bytes = [3, 2, 1, 0].map((i) => word.slice(i * 2, i * 2 + 2)).join("");
    words.push(bytes.slice(0, 4), bytes.slice(4, 8));
  }
  return words.map((group) => group.replace(/^0+(?=.)/, "")).join(":").toLowerCase();
}

const isLoopback = (address: string) => address.startsWith("127.") || address === "0:0:0:0:0:0:0:1" || address === "0:0:0:0:0:ffff:7f00:1";

/**
 * The TCP sockets in LISTEN state that the given processes (containers' main processes, as host
 * pids) hold. Containers on the host network share its network namespace, so this is what a
 * machine on the network could reach.
 */
export function listeningSockets(pids: readonly number[]): ListeningSocket[] {
  const owner = new Map<string, number>();
  for (const pid of pids) {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (match?.[1]) owner.set(match[1], pid);
      } catch {
        // the fd closed meanwhile
      }
    }
  }
  const sockets: ListeningSocket[] = [];
  for (const table of ["tcp", "tcp6"]) {
    const pid = pids[0];
    if (pid === undefined) break;
    const lines = readFileSync(`/proc/${pid}/net/${table}`, "utf8").split("\n").slice(1);
    for (const line of lines) {
      const fields = line.trim().split(/\s+/);
      // st 0A = LISTEN; field 9 is the socket's inode.
      if (fields[3] !== "0A" || fields[9] === undefined) continue;
      const listener = owner.get(fields[9]);
      if (listener === undefined) continue;
      const [address = "", port = "0"] = (fields[1] ?? "").split(":");
      sockets.push({ pid: listener, address: decodeAddress(address), port: parseInt(port, 16) });
    }
  }
  return sockets;
}

/** The listening sockets of `pids` bound to anything but loopback, as "pid address:port". */
export function nonLoopbackListeners(pids: readonly number[]): string[] {
  return listeningSockets(pids)
    .filter((socket) => !isLoopback(socket.address))
    .map((socket) => `${socket.pid} ${socket.address}:${socket.port}`);
}
