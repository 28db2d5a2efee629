import { lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** The names kubelet's atomic writer reserves in a projected volume. */
const DATA_DIR = "..data";
const NEW_DATA_DIR = "..data_tmp";

/**
 * Writes `files` (key → content) into `dir` exactly as kubelet projects a ConfigMap volume and
 * as it applies every later update (Kubernetes 1.35, pkg/volume/util/atomic_writer.go,
 * AtomicWriter.Write), so tests see the same file-system events a pod does:
 *
 *   dir/..2026_12_07_03_04_05.1234567890/detour.yaml   the data: one timestamped directory per version
 *   dir/..data -> ..2026_12_07_03_04_05.1234567890     which version is current
 *   dir/detour.yaml -> ..data/detour.yaml               what the container reads
 *
 * An update writes the new version's directory, points a new symlink `..data_tmp` at it and
 * renames that over `..data` (the one atomic step), creates the visible links of new keys,
 * removes those of dropped keys, then removes the old version's directory. The visible file is
 * never rewritten: only the link it goes through changes. Content equal to the current version
 * writes nothing, as kubelet does. Returns whether anything was written.
 */
export function writeConfigMapVolume(dir: string, files: Readonly<Record<string, string>>): boolean {
  mkdirSync(dir, { recursive: true });
  const dataLink = join(dir, DATA_DIR);
  const oldVersion = isLink(dataLink) ? readlinkSync(dataLink) : undefined;
  const keys = Object.keys(files);
  const dropped: string[] = [];
  if (oldVersion !== undefined) {
    const oldKeys = keysOf(join(dir, oldVersion));
    dropped.push(...oldKeys.filter((key) => !keys.includes(key)));
    const unchanged = keys.every((key) => oldKeys.includes(key) && readFileSync(join(dir, oldVersion, key), "utf8") === files[key]);
    if (unchanged && dropped.length === 0) return false;
  }

  // (5)-(7) the new version's directory, 0755, files 0644 (the volume's defaultMode)
  const version = timestampDirName();
  mkdirSync(join(dir, version), { mode: 0o755 });
  for (const key of keys) writeFileSync(join(dir, version, key), files[key]!, { mode: 0o644 });
  // (8)-(9) the atomic switch
  symlinkSync(version, join(dir, NEW_DATA_DIR));
  renameSync(join(dir, NEW_DATA_DIR), dataLink);
  // (10) visible links for keys that have none yet
  for (const key of keys) if (!isLink(join(dir, key))) symlinkSync(join(DATA_DIR, key), join(dir, key));
  // (11) visible links of dropped keys, (12) the old version's directory
  for (const key of dropped) rmSync(join(dir, key), { force: true });
  if (oldVersion !== undefined) rmSync(join(dir, oldVersion), { recursive: true, force: true });
  return true;
}

/** os.MkdirTemp(dir, time.Now().UTC().Format("..2006_01_02_15_04_05.")): the pattern plus random digits. */
function timestampDirName(): string {
  const now = new Date();
  const pad = (n: number) => String(n).padStart(2, "0");
  const stamp = `${now.getUTCFullYear()}_${pad(now.getUTCMonth() + 1)}_${pad(now.getUTCDate())}_${pad(now.getUTCHours())}_${pad(now.getUTCMinutes())}_${pad(now.getUTCSeconds())}`;
  return `..${stamp}.${Math.floor(Math.random() * 4_294_967_296)}`;
}

/** The keys of a version directory (detour's ConfigMaps hold flat keys: detour.yaml, key files). */
function keysOf(versionDir: string): string[] {
  try {
    return readdirSync(versionDir).filter((name) => !name.startsWith(".."));
  } catch {
    return [];
  }
}

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}
