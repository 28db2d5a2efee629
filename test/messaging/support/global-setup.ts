import { reapOrphanedBrokers } from "./broker-process.ts";

/**
 * Before and after the messaging suite: stop brokers that a test process killed mid-run (a
 * timeout, Ctrl-C) left behind, found through the PIDs recorded in their temp dirs.
 */
export function setup(): void {
  const reaped = reapOrphanedBrokers();
  if (reaped !== 0) console.log(`messaging suite: stopped ${reaped} broker(s) left by an interrupted run`);
}

export function teardown(): void {
  reapOrphanedBrokers();
}
