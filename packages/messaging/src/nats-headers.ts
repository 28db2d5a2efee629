import type { MsgHdrs } from "@nats-io/transport-node";
import { BAGGAGE_HEADER, DETOUR_HEADER, TOKEN_HEADER } from "@detour/core";
import { FORWARDED_HEADER } from "./constants.js";
import { overriding } from "./overriding.js";
import { writeOutgoingOverride, type OutgoingOverride } from "./outgoing-override.js";

const CARRIERS: ReadonlySet<string> = new Set([DETOUR_HEADER, BAGGAGE_HEADER, TOKEN_HEADER]);

/**
 * A copy of `given` (or new headers from `create`) carrying `outgoing`: detour's carriers the
 * message already had are merged (their other baggage members kept) and replaced, every other
 * header is copied as it was. NATS header names keep their case on the wire; detour's are
 * lower-case like everywhere else.
 */
export function natsHeadersWith(given: MsgHdrs | undefined, outgoing: OutgoingOverride, create: () => MsgHdrs): MsgHdrs {
  const headers = create();
  const carriers: Record<string, unknown> = {};
  for (const [name, values] of given ?? []) {
    if (CARRIERS.has(name.toLowerCase())) carriers[name] = values.join(",");
    else for (const value of values) headers.append(name, value);
  }
  writeOutgoingOverride(carriers, outgoing);
  for (const [name, value] of Object.entries(carriers)) if (typeof value === "string") headers.set(name, value);
  return headers;
}

/** The FORWARDED_HEADER value of a message forwarded from `subject`. */
export function natsOrigin(subject: string): string {
  return `nats:${subject}`;
}

/**
 * An inbox message as its handler should see it: with the subject it was first published to
 * (from FORWARDED_HEADER), everything else the message itself.
 */
export function withOriginSubject<M extends { readonly subject: string; readonly headers?: MsgHdrs | undefined }>(message: M): M {
  const forwarded = message.headers?.get(FORWARDED_HEADER);
  if (forwarded === undefined || !forwarded.startsWith("nats:")) return message;
  return overriding(message, { subject: forwarded.slice("nats:".length) });
}
