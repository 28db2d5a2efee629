import { watch, type FSWatcher } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { RELOAD_DEBOUNCE_MS } from "../constants.js";

/**
 * Calls `onChange` (debounced) when `path` changes. The directory is watched, not the file:
 * editors and config-map updates replace the file (rename), which ends a watch on the old inode.
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
