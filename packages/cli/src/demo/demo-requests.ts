import { HEADER_NAME_PATTERN, WORKLOAD_PATTERN } from "@detour/core";
import { readYamlConfig } from "@detour/ext-proc";
import { z } from "zod";

/** The compact tree notation of call-tree.ts: `svc@ver(calls,...)`, a failed call as `svc!status`. */
const TREE = /^[a-z0-9-]+(?:@[A-Za-z0-9._-]+(?:\(.*\))?|!(?:\d{3}|error))$/;

const requestSchema = z.strictObject({
  name: z.string().min(1),
  headers: z.record(z.string().regex(new RegExp(HEADER_NAME_PATTERN), "must be an HTTP header name"), z.string()).default({}),
  path: z.string().startsWith("/").default("/"),
  expect: z.string().regex(TREE, "must be a call tree such as frontend@v1(catalog@v2(pricing@v2),cart@v1)"),
});

const jobSchema = z.strictObject({
  name: z.string().min(1),
  workload: z.string().regex(new RegExp(WORKLOAD_PATTERN), "must be service/version, e.g. cart/pr-7"),
  path: z.string().startsWith("/"),
  expect: z.string().regex(TREE, "must be a call tree such as cart@pr-7(pricing@v1)"),
});

/** examples/demo-requests.yaml: what `detour demo` sends through the edge and what must come back. */
export const demoRequestsSchema = z.strictObject({
  requests: z.array(requestSchema).min(1),
  jobs: z.array(jobSchema).default([]),
});

export type DemoRequests = z.output<typeof demoRequestsSchema>;
export type DemoRequest = DemoRequests["requests"][number];
export type DemoJob = DemoRequests["jobs"][number];

export function readDemoRequests(file: string): DemoRequests {
  return readYamlConfig(file, demoRequestsSchema);
}
