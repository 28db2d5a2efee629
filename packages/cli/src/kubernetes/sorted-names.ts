/**
 * The keys of a topology map (services, versions, workloads) in byte order. Every object list
 * and every list inside an object follows it, because Helm's templates can only walk a map in
 * that order and the chart must render exactly what `detour kubernetes` renders.
 */
export function sortedNames(record: Readonly<Record<string, unknown>>): string[] {
  return Object.keys(record).sort();
}
