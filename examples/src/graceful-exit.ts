/**
 * Closes the server and exits on SIGTERM/SIGINT, so `detour demo` (or `docker compose down`)
 * stops a service in well under a second instead of waiting for its kill timeout. Under
 * `detour demo` (DETOUR_SUPERVISED=1) the service also exits when its stdin pipe closes: that
 * happens when the supervisor dies without a chance to stop it (kill -9), so no service is left
 * running on its own.
 */
export function exitOnSignal(close: () => Promise<unknown>): void {
  const stop = () => {
    const force = setTimeout(() => process.exit(0), 2_000);
    force.unref();
    close().then(
      () => process.exit(0),
      () => process.exit(0),
    );
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
  if (process.env.DETOUR_SUPERVISED === "1") {
    process.stdin.once("end", stop).once("error", stop).resume();
  }
}
