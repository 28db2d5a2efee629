import { watch, type FSWatcher } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { RELOAD_DEBOUNCE_MS } from "../constants.js";

/**
 * Calls `onChange` (debounced) when `path` changes. The directory is watched, not the file:
 * editors replace the file (rename), which ends a watch on the old inode. A Kubernetes
 * ConfigMap volume never touches the file at all: `detour.yaml` is a link to
 * `..data/detour.yaml`, and kubelet publishes an update by writing a new timestamped directory
 * and renaming a new `..data_tmp` link over `..data`. Those `..` names are kubelet's reserved
 * ones, so an event for any of them counts as a change. (A volume mounted with `subPath` is
 * never updated by kubelet: mount the whole volume.)
 */
export function watchConfigFile(path: string, onChange: () => void): { close(): void } {
  const absolute = resolve(path);
  const name = basename(absolute);
  let timer: NodeJS.Timeout | undefined;
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dirname(absolute), { persistent: false }, (_event, file) => {
      if (file !== null && file !== name && !file.startsWith("..")) return;
      clearTimeout(timer);
      timer = setTimeout(onChange, RELOAD_DEBOUNCE_MS);
    });
    watcher.on("error", () => undefined);
  } catch {
    // No inotify (or similar): SIGHUP still reloads.
  }
  return {
    close() {
      clearTimeout(timer);
      watcher?.close();
    },
  };
}
