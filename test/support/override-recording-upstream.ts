import { afterAll, beforeAll } from "vitest";
import { startUpstream, type Upstream } from "./upstream.js";

export interface OverrideRecordingUpstream {
  /** Calls the upstream (from a handler, through whatever propagation is installed). */
  call(path: string): Promise<void>;
  /** The x-detour header the call to `path` arrived with. */
  sawOverride(path: string): string | string[] | undefined;
}

/**
 * For the framework glue tests: an upstream started before the file's tests and closed after
 * them, to check what a handler's outbound call carried.
 */
export function useOverrideRecordingUpstream(): OverrideRecordingUpstream {
  let upstream: Upstream | undefined;
  beforeAll(async () => {
    upstream = await startUpstream("upstream", "v1");
  });
  afterAll(async () => {
    await upstream?.close();
  });
  const started = (): Upstream => {
    if (upstream === undefined) throw new Error("the recording upstream is only up during the file's tests");
    return upstream;
  };
  return {
    call: async (path) => void (await (await fetch(`http://127.0.0.1:${started().port}${path}`)).text()),
    sawOverride: (path) => started().hits.find((h) => h.url === path)?.headers["x-detour"],
  };
}
