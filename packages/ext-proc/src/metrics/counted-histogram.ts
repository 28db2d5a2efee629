import type { Histogram, Registry, RegistryContentType } from "prom-client";

/** One sample of prom-client's metric data (what `Metric.get()` resolves to, per value). */
interface HistogramValue {
  readonly labels: Readonly<Record<string, string | number>>;
  readonly value: number;
  readonly metricName: string;
}

/**
 * A Prometheus histogram without labels whose observations are counted in plain numbers and
 * handed to prom-client only when a registry collects (a scrape). prom-client's own
 * `Histogram.observe` builds a closure, validates and hashes the (empty) label set on every call;
 * on the ext_proc request path, one observation per request, that was a visible share of a
 * request's CPU. The scrape output is the same as prom-client's histogram: cumulative `_bucket`
 * lines with `le`, `+Inf`, `_sum` and `_count`.
 */
export class CountedHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = "histogram";
  readonly aggregator = "sum";
  readonly #bounds: readonly number[];
  /** Observations per bucket (not cumulative); the last slot is above every bound. */
  readonly #counts: Float64Array;
  #sum = 0;

  constructor(options: { name: string; help: string; buckets: readonly number[]; registers: readonly Registry<RegistryContentType>[] }) {
    this.name = options.name;
    this.help = options.help;
    this.#bounds = [...options.buckets].sort((a, b) => a - b);
    this.#counts = new Float64Array(this.#bounds.length + 1);
    // prom-client types registerMetric to its own classes; any object with their collection
    // surface (name, help, type, aggregator, get, reset) is collected the same way.
    for (const registry of options.registers) registry.registerMetric(this as unknown as Histogram);
  }

  observe(value: number): void {
    const bounds = this.#bounds;
    let index = 0;
    while (index < bounds.length && value > bounds[index]!) index++;
    this.#counts[index]!++;
    this.#sum += value;
  }

  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: HistogramValue[] }> {
    const values: HistogramValue[] = [];
    let cumulative = 0;
    this.#bounds.forEach((bound, index) => {
      cumulative += this.#counts[index]!;
      values.push({ labels: { le: bound }, value: cumulative, metricName: `${this.name}_bucket` });
    });
    cumulative += this.#counts[this.#bounds.length]!;
    values.push({ labels: { le: "+Inf" }, value: cumulative, metricName: `${this.name}_bucket` });
    values.push({ labels: {}, value: this.#sum, metricName: `${this.name}_sum` });
    values.push({ labels: {}, value: cumulative, metricName: `${this.name}_count` });
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    this.#counts.fill(0);
    this.#sum = 0;
  }
}
