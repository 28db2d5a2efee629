import type { TopologySource } from "@detour/messaging";

/** Where the suite's brokers listen (only the ones a file started). */
export interface BrokerEndpoints {
  readonly kafka?: string;
  readonly amqp?: string;
  readonly nats?: string;
}

/** One detour consumer started by a harness. */
export interface HarnessConsumer {
  readonly role: string;
  /** Versions the consumer knows inboxes of (a baseline forwards only to those). */
  status(): { inboxes: string[]; draining: string[] };
  /** Lists inboxes now (instead of waiting for the next interval). */
  reconcile(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * One broker client under test, the same way for every client: produce with detour's producer
 * wrapper (inside whatever context is active), produce raw (a producer that knows nothing of
 * detour), and start detour consumers whose handler gets the message value.
 */
export interface ClientHarness {
  readonly name: string;
  readonly broker: keyof BrokerEndpoints;
  /** The client's name in fixtures/consumer-worker.mjs (consumers in their own process). */
  readonly worker: string;
  /**
   * The documented bound (docs/messaging.md) on how long after the topology drops a killed
   * version the baseline has processed what that version left, with this suite's timings.
   */
  takeoverBoundMs(timings: TakeoverTimings): number;
  /** Why this Node cannot run the client, or undefined. */
  readonly unsupported: string | undefined;
  open(brokers: BrokerEndpoints, destination: string): Promise<OpenClient>;
}

export interface OpenClient {
  produce(values: readonly string[]): Promise<void>;
  produceRaw(value: string, headers: Readonly<Record<string, string>>): Promise<void>;
  consume(workload: string, group: string, topology: TopologySource, handler: (value: string) => Promise<void>): Promise<HarnessConsumer>;
  close(): Promise<void>;
}

/** The consumer timings a takeover bound depends on. */
export interface TakeoverTimings {
  /** Topology poll interval and request timeout: the topology's staleness bound is their sum. */
  readonly refreshMs: number;
  readonly requestTimeoutMs: number;
  /** How often consumers list inboxes and start drains. */
  readonly reconcileMs: number;
  /** Kafka: how long a dead member keeps its partitions. */
  readonly sessionTimeoutMs: number;
}
