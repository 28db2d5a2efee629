/**
 * Last resort when the test process itself is ending (a runner killed mid-run, an uncaught
 * error): SIGKILL whatever child is still listed, synchronously, so no server or Envoy outlives it.
 */
const livePids = new Set<number>();
process.once("exit", () => {
  for (const pid of livePids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
});

/** Registers a child pid for the exit-time sweep; returns the function that unregisters it. */
export function trackChild(pid: number): () => void {
  livePids.add(pid);
  return () => livePids.delete(pid);
}
