import { isValidVersion } from "@detour/core";
import { INBOX_SEGMENT } from "./constants.js";

/**
 * Naming of detour's RabbitMQ objects for the consumers of queue Q:
 * - a version's inbox: `Q.detour.<version>` (durable, no bindings: the baseline sends to it
 *   through the default exchange);
 * - the registry of inboxes: `Q.detour._inboxes`, one message per inbox naming its version, so a
 *   baseline that restarts still finds the inboxes of versions the topology no longer lists
 *   (AMQP cannot list queues). A version never starts with `_`, so the names cannot collide.
 */
export const amqpInboxes = {
  queue(origin: string, version: string): string {
    return `${origin}.${INBOX_SEGMENT}.${version}`;
  },

  registry(origin: string): string {
    return `${origin}.${INBOX_SEGMENT}._inboxes`;
  },

  /** A registry entry's version, or undefined when it is not one. */
  version(entry: string): string | undefined {
    return isValidVersion(entry) ? entry : undefined;
  },
};
