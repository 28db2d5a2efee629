// Small statistics over repetitions: the benchmark reports medians, never means, so one
// disturbed repetition on a shared 2-core machine does not move the result.

export function median(values) {
  const sorted = values.filter((v) => typeof v === "number" && Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return undefined;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The `q` quantile (0–1) of `values`, nearest rank; undefined for none. */
export function percentile(values, q) {
  const sorted = values.filter((v) => typeof v === "number" && Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

export function max(values) {
  const finite = values.filter((v) => typeof v === "number" && Number.isFinite(v));
  return finite.length ? Math.max(...finite) : undefined;
}

export function ratio(a, b) {
  return a === undefined || b === undefined || b === 0 ? undefined : a / b;
}
