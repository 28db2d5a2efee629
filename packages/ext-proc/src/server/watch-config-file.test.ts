import { mkdtempSync, readFileSync, readlinkSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { writeConfigMapVolume } from "../../../../test/support/config-map-volume.js";
import { waitFor } from "../../../../test/support/wait-for.js";
import { watchConfigFile } from "./watch-config-file.js";

describe("watchConfigFile", () => {
  let dir: string;
  let watcher: { close(): void } | undefined;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), "detour-watch-"))));
  afterEach(() => {
    watcher?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Watches `path`, recording what the file says each time the watch fires. */
  function watchRecording(path: string): string[] {
    const seen: string[] = [];
    watcher = watchConfigFile(path, () => seen.push(readFileSync(path, "utf8")));
    return seen;
  }

  it("sees a file rewritten in place", async () => {
    const path = join(dir, "detour.yaml");
    writeFileSync(path, "one\n");
    const seen = watchRecording(path);
    writeFileSync(path, "two\n");
    await waitFor(() => seen.at(-1) === "two\n", { what: "the rewrite" });
  });

  it("sees a file replaced by rename, as editors and config tools save", async () => {
    const path = join(dir, "detour.yaml");
    writeFileSync(path, "one\n");
    const seen = watchRecording(path);
    writeFileSync(join(dir, ".detour.yaml.tmp"), "two\n");
    renameSync(join(dir, ".detour.yaml.tmp"), path);
    await waitFor(() => seen.at(-1) === "two\n", { what: "the replacement" });
  });

  describe("a ConfigMap volume updated by kubelet's atomic symlink swap", () => {
    it("sees every update, though the visible file itself never changes", async () => {
      const volume = join(dir, "etc-detour");
      writeConfigMapVolume(volume, { "detour.yaml": "version: 1\n" });
      const path = join(volume, "detour.yaml");
      // The layout a container sees: the file is a link through ..data to a timestamped directory.
      expect(readlinkSync(path)).toBe(join("..data", "detour.yaml"));
      expect(readlinkSync(join(volume, "..data"))).toMatch(/^\.\.\d{4}_\d{2}_\d{2}_\d{2}_\d{2}_\d{2}\.\d+$/);
      const seen = watchRecording(path);

      for (const version of [2, 3, 4]) {
        const before = readlinkSync(join(volume, "..data"));
        expect(writeConfigMapVolume(volume, { "detour.yaml": `version: ${version}\n` })).toBe(true);
        expect(readlinkSync(join(volume, "..data"))).not.toBe(before);
        await waitFor(() => seen.at(-1) === `version: ${version}\n`, { what: `update ${version} to be seen` });
      }
    });

    it("sees an update that adds a key next to the config (a key file) and one that drops it", async () => {
      const volume = join(dir, "etc-detour");
      writeConfigMapVolume(volume, { "detour.yaml": "keys: none\n" });
      const path = join(volume, "detour.yaml");
      const seen = watchRecording(path);
      writeConfigMapVolume(volume, { "detour.yaml": "keys: edge.pem\n", "edge.pem": "key\n" });
      await waitFor(() => seen.at(-1) === "keys: edge.pem\n", { what: "the update that adds a key" });
      writeConfigMapVolume(volume, { "detour.yaml": "keys: none again\n" });
      await waitFor(() => seen.at(-1) === "keys: none again\n", { what: "the update that drops it" });
    });
  });
});
