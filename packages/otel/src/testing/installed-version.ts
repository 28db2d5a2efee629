import { createRequire } from "node:module";

const nodeRequire = createRequire(import.meta.url);

/** The version of an installed package, read from its package.json. */
export function installedVersion(name: string): string {
  return (nodeRequire(`${name}/package.json`) as { version: string }).version;
}

/** True when `version` (x.y.z) is at least `minimum`. */
export function atLeast(version: string, minimum: string): boolean {
  const a = version.split(/[.-]/).map(Number);
  const b = minimum.split(".").map(Number);
  for (let i = 0; i < 3; i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    if (x !== y) return x > y;
  }
  return true;
}
