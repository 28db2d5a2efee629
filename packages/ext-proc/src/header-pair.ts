/**
 * A request header as Envoy's ext_proc hands it over: lower-case name, one entry per field line
 * (repeated headers arrive as separate entries). The input of every decision.
 */
export type HeaderPair = readonly [name: string, value: string];
