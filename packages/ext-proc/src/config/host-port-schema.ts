import { z } from "zod";
import { HOST_PORT_PATTERN, parseHostPort } from "../address/host-port.js";

/** A `host:port` field of detour.yaml; `example` is shown in the error message. */
export function hostPortSchema(example: string) {
  return z
    .string()
    .regex(HOST_PORT_PATTERN, { message: `must be host:port, e.g. ${example}`, abort: true })
    .refine((text) => parseHostPort(text) !== undefined, "the port must be from 0 to 65535");
}
