/**
 * Names, defaults and limits of @detour/messaging in one place. The override's own carriers
 * (x-detour, the baggage member, x-detour-token) are @detour/core's.
 */

/**
 * Header a baseline consumer adds when it forwards a message to a version's inbox: where the
 * message came from (`kafka:orders/3/1234`, `amqp:orders`, `nats:orders.created`), for logs and
 * so a handler can tell a forwarded message from an original. Never read for routing.
 */
export const FORWARDED_HEADER = "x-detour-forwarded";

/**
 * How often a topology client polls the server (ms). A change reaches consumers within one
 * interval plus one request timeout; 2 s keeps a sandbox start or stop visible within seconds
 * while costing the server one small 304 answer per consumer every 2 s.
 */
export const DEFAULT_TOPOLOGY_REFRESH_MS = 2_000;

/** How long one topology request may take (ms) before it counts as failed and the last good topology stays. */
export const DEFAULT_TOPOLOGY_TIMEOUT_MS = 1_000;

/**
 * How long a consumer waits at start for its first topology (ms). It cannot know whether it is
 * the baseline without one; failing start with a clear error beats consuming in the wrong role.
 */
export const DEFAULT_TOPOLOGY_START_TIMEOUT_MS = 30_000;

/**
 * The segment that marks detour's own broker objects in their names (inbox topics, queues,
 * subjects, consumer groups), so an operator can tell them apart and ACLs can match them.
 */
export const INBOX_SEGMENT = "detour";

/**
 * How often a consumer lists inboxes and checks drains (ms). A new version's inbox starts getting
 * forwarded messages within one interval of its creation (until then the baseline processes them).
 */
export const DEFAULT_RECONCILE_MS = 2_000;

/**
 * Added to the topology's staleness bound before a drained inbox is deleted (ms): room for a
 * forward that was already in flight when the last baseline replica saw the version stop.
 */
export const DRAIN_MARGIN_MS = 2_000;
