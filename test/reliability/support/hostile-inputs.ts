import { isHeaderName } from "@detour/core";

/**
 * Seeded generator of hostile override carriers for the hostile-input part of the suite. Input
 * `i` of seed `s` is always the same (its own PRNG stream), so a failure names a reproducible
 * case. Header names and values are `latin1` strings: one char per byte on the wire, so raw
 * non-UTF-8 bytes and control characters can be expressed.
 */

export type HeaderLine = readonly [name: string, value: string];

export interface HostileInput {
  readonly index: number;
  /** The generator that made it (counted per kind in the report). */
  readonly kind: HostileKind;
  /** Workload whose sidecar listener the request enters. */
  readonly via: string;
  readonly authority: string;
  /** Topology service the authority names. */
  readonly service: string;
  readonly lines: readonly HeaderLine[];
}

export const HOSTILE_KINDS = [
  "valid",
  "malformed",
  "oversized",
  "too-many-entries",
  "duplicated",
  "comma-joined",
  "percent-broken",
  "control-chars",
  "non-utf8",
  "unicode",
  "conflicting",
  "alias",
  "tokens",
  "route-spoof",
  "baggage-window",
  "header-names",
  "beyond-envoy-limits",
] as const;
export type HostileKind = (typeof HOSTILE_KINDS)[number];

/** Relative weights: most inputs exercise the codec; a few stress Envoy's own limits. */
const WEIGHTS: Record<HostileKind, number> = {
  valid: 10,
  malformed: 12,
  oversized: 5,
  "too-many-entries": 4,
  duplicated: 8,
  "comma-joined": 8,
  "percent-broken": 10,
  "control-chars": 6,
  "non-utf8": 6,
  unicode: 4,
  conflicting: 6,
  alias: 6,
  tokens: 3,
  "route-spoof": 3,
  "baggage-window": 2,
  "header-names": 3,
  "beyond-envoy-limits": 0.3,
};

/** mulberry32: small, fast, good enough to spread test inputs. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Pick {
  (max: number): number;
  of<T>(items: readonly T[]): T;
  chance(p: number): boolean;
}

function picker(random: () => number): Pick {
  const pick = ((max: number) => Math.floor(random() * max)) as Pick;
  pick.of = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!;
  pick.chance = (p: number) => random() < p;
  return pick;
}

/** What the generator knows of the topology (the reference topology's services and aliases). */
export interface HostileTopology {
  readonly services: Readonly<Record<string, readonly string[]>>;
  /** Authorities per service that Envoy and the server both resolve to it. */
  readonly authorities: Readonly<Record<string, readonly string[]>>;
  readonly workloads: readonly string[];
}

const JUNK = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~ ";
const BAD_SERVICES = ["ghost", "Pricing", "-pricing", "pricing-", "pric ing", "pricing.v2", "a".repeat(64), "", "**", "pricing_v2", "🙂"];
const BAD_VERSIONS = ["v9", "V2", ".v2", "-v2", "v".repeat(64), "v2/x", "v2;q=1", "v%32", "", "v2 v3", "ü", "v2\t"];
const FOREIGN_MEMBERS = ["session=abc", "userId=42", "k=v;prop=1", "tenant=a%20b", "sd-routing-key=x", "mirrord-session=m1", "detours=nope", "xdetour=nope"];

function percentEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** A latin1 string holding the UTF-8 bytes of `text` (what a client sends for non-ASCII text). */
function utf8Bytes(text: string): string {
  return Buffer.from(text, "utf8").toString("latin1");
}

class Generator {
  private readonly serviceNames: string[];
  constructor(
    private readonly topology: HostileTopology,
    private readonly pick: Pick,
  ) {
    this.serviceNames = Object.keys(topology.services);
  }

  validEntry(): string {
    const p = this.pick;
    if (p.chance(0.1)) return `*=${p.of(["pr-7", "v2", "sandbox-3"])}`;
    const service = p.of(this.serviceNames);
    const versions = this.topology.services[service]!;
    return `${p.chance(0.15) ? service.toUpperCase() : service}=${p.chance(0.8) ? p.of(versions) : p.of(["v9", "pr-8", "v3"])}`;
  }

  brokenEntry(): string {
    const p = this.pick;
    const service = p.chance(0.5) ? p.of(this.serviceNames) : p.of(BAD_SERVICES);
    const version = p.chance(0.4) ? p.of(["v1", "v2", "pr-7"]) : p.of(BAD_VERSIONS);
    switch (p(9)) {
      case 0:
        return service; // no '='
      case 1:
        return `=${version}`;
      case 2:
        return `${service}=`;
      case 3:
        return `${service}==${version}`;
      case 4:
        return `${service}=${version}=${version}`;
      case 5:
        return `${service} = ${version}`;
      case 6:
        return `${service}:${version}`;
      case 7:
        return Array.from({ length: 1 + p(12) }, () => JUNK[p(JUNK.length)]).join("");
      default:
        return `${service}=${version}`;
    }
  }

  entries(count: number, brokenShare: number): string[] {
    return Array.from({ length: count }, () => (this.pick.chance(brokenShare) ? this.brokenEntry() : this.validEntry()));
  }

  join(entries: readonly string[]): string {
    const p = this.pick;
    const separators = [",", ", ", " ,", ",,", ",\t", " , ", ", ,"];
    let text = entries.map((entry, index) => (index === 0 ? entry : `${p.of(separators)}${entry}`)).join("");
    if (p.chance(0.1)) text = `,${text}`;
    if (p.chance(0.1)) text = `${text},`;
    if (p.chance(0.1)) text = ` ${text} `;
    return text;
  }

  baggage(detourValue: string | undefined, options: { encode?: boolean; foreign?: number } = {}): string {
    const p = this.pick;
    const members = Array.from({ length: options.foreign ?? p(3) }, () => p.of(FOREIGN_MEMBERS));
    if (detourValue !== undefined) {
      const value = options.encode === false ? detourValue : percentEncode(detourValue);
      members.splice(p(members.length + 1), 0, `detour${p.chance(0.1) ? " " : ""}=${p.chance(0.1) ? " " : ""}${value}${p.chance(0.1) ? ";p=1" : ""}`);
    }
    return members.join(p.chance(0.5) ? "," : ", ");
  }

  brokenPercent(value: string): string {
    const p = this.pick;
    let encoded = percentEncode(value);
    const breaks = [
      () => encoded.replace("%3D", "%3"),
      () => encoded.replace("%3D", "%G1"),
      () => `${encoded}%`,
      () => encoded.replace("%2C", "%%2C"),
      () => `${encoded}%E2%82`, // truncated UTF-8 sequence
      () => `${encoded}%00`,
      () => encoded.replace("%3D", "%0A%3D"),
      () => encoded.replace(/%/g, "%25"), // double encoded
      () => encoded.replace("%3D", "%3d"), // lower-case hex is fine
      () => encoded.replace("%3D", "%FF"),
    ];
    const count = 1 + p(2);
    for (let i = 0; i < count; i++) encoded = p.of(breaks)();
    return encoded;
  }

  carrierLine(value: string): HeaderLine {
    return this.pick.chance(0.6) ? ["x-detour", value] : ["baggage", this.baggage(value, { encode: true })];
  }

  make(kind: HostileKind): HeaderLine[] {
    const p = this.pick;
    switch (kind) {
      case "valid":
        return [this.carrierLine(this.join(this.entries(1 + p(4), 0)))];
      case "malformed":
        return [this.carrierLine(this.join(this.entries(1 + p(5), 0.7)))];
      case "oversized": {
        // Over limits.maxValueBytes (1024) and under Envoy's 60 KiB header limit: ignored whole.
        const entries: string[] = [];
        while (entries.join(",").length < 1025 + p(4000)) entries.push(`${p.of(this.serviceNames)}=${"v".repeat(1 + p(62))}`);
        if (p.chance(0.5)) entries.push(`pricing=v2`);
        const value = entries.join(",");
        return p.chance(0.5) ? [["x-detour", value]] : [["baggage", this.baggage(value)]];
      }
      case "too-many-entries": {
        const count = p.chance(0.5) ? 33 + p(40) : 30 + p(4);
        return [this.carrierLine(this.entries(count, 0.1).join(","))];
      }
      case "duplicated": {
        const lines: HeaderLine[] = [];
        const count = 2 + p(4);
        for (let i = 0; i < count; i++) lines.push(p.chance(0.7) ? ["x-detour", this.join(this.entries(1 + p(2), 0.3))] : ["baggage", this.baggage(p.chance(0.7) ? this.validEntry() : undefined)]);
        return lines;
      }
      case "comma-joined": {
        const service = p.of(this.serviceNames);
        const versions = this.topology.services[service]!;
        const entries = Array.from({ length: 2 + p(4) }, () => `${service}=${p.of([...versions, "v9"])}`);
        return [this.carrierLine(this.join(entries))];
      }
      case "percent-broken":
        return [["baggage", this.baggage(undefined, { foreign: p(3) }) + (p.chance(0.5) ? "," : "") + `detour=${this.brokenPercent(this.join(this.entries(1 + p(3), 0.2)))}`]];
      case "control-chars": {
        const [name, value] = this.carrierLine(this.join(this.entries(1 + p(3), 0.2)));
        const controls = [...Array.from({ length: 32 }, (_, c) => String.fromCharCode(c)), "\x7f"];
        const control = p.of(controls);
        if (p.chance(0.2)) return [[`${name.slice(0, 2)}${control}${name.slice(2)}`, value]];
        const at = p(value.length + 1);
        return [[name, `${value.slice(0, at)}${control}${value.slice(at)}`]];
      }
      case "non-utf8": {
        const [name, value] = this.carrierLine(this.join(this.entries(1 + p(3), 0.2)));
        const bytes = Array.from({ length: 1 + p(4) }, () => String.fromCharCode(0x80 + p(128))).join("");
        const at = p(value.length + 1);
        return [[name, `${value.slice(0, at)}${bytes}${value.slice(at)}`]];
      }
      case "unicode": {
        const lookalikes = ["рricing=v2", "pricing=v２", "ｐricing=v2", "pricing=v2\u200b", "prıcing=v2", "pricing=ⅴ2", "cart=pr‐7"];
        const entries = [...this.entries(p(3), 0), p.of(lookalikes)];
        return [["x-detour", utf8Bytes(this.join(entries))]];
      }
      case "conflicting": {
        const lines: HeaderLine[] = [];
        lines.push(["x-detour", this.join(this.entries(1 + p(2), p.chance(0.5) ? 1 : 0))]);
        lines.push(["baggage", this.baggage(this.join(this.entries(1 + p(2), 0.2)))]);
        if (p.chance(0.5)) lines.push(["x-override", `${p.of(this.serviceNames)}:${p.of(["v1", "v2", "pr-7", "v9"])}`]);
        if (p.chance(0.3)) lines.push(["virtual-cluster-name", p.of(["pr-7", "v2", "bad key", ""])]);
        return shuffle(lines, p);
      }
      case "alias": {
        const options: HeaderLine[] = [
          ["x-override", `${p.of(this.serviceNames)}:${p.of(["v1", "v2", "pr-7", "v9"])}`],
          ["x-override", p.of(["cart:", ":pr-7", "cart::pr-7", "cart=pr-7", "cart:pr-7,pricing:v2", "cart:pr 7"])],
          ["virtual-cluster-name", p.of(["pr-7", "v2", "sandbox", "bad key", "", "pr-7,v2", "*"])],
          ["baggage", p.of(["okteto-divert=pr-7", "okteto-divert=", "okteto-divert", "okteto-divert=pr%2D7", "okteto-divert=%zz", "a=1,okteto-divert = v2"])],
        ];
        return [p.of(options), ...(p.chance(0.3) ? [p.of(options)] : [])];
      }
      case "tokens": {
        const junk = Array.from({ length: 10 + p(300) }, () => "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."[p(65)]).join("");
        const lines: HeaderLine[] = [
          p.chance(0.5) ? ["x-detour-token", junk] : ["cookie", `a=b; detour_token=${junk}; c=d`],
          ...(p.chance(0.5) ? [["x-detour-token", `eyJhbGciOiJub25lIn0.${Buffer.from('{"ovr":"pricing=v2"}').toString("base64url")}.`] as const] : []),
        ];
        if (p.chance(0.5)) lines.push(this.carrierLine(this.validEntry()));
        return lines;
      }
      case "route-spoof": {
        const lines: HeaderLine[] = [["x-detour-route", p.of(["v2", "pr-7", "v1", "v9", "v2,v1"])]];
        if (p.chance(0.5)) lines.push(this.carrierLine(this.validEntry()));
        return shuffle(lines, p);
      }
      case "baggage-window": {
        // Our member past the 180-member / 8192-byte window detour and OpenTelemetry read.
        const count = p.chance(0.5) ? 175 + p(20) : 60 + p(30);
        const filler = Array.from({ length: count }, (_, i) => (p.chance(0.5) ? `m${i}=${"x".repeat(1 + p(130))}` : `m${i}=1`));
        filler.push(`detour=${percentEncode(this.validEntry())}`);
        return [["baggage", filler.join(",")]];
      }
      case "header-names": {
        const value = this.join(this.entries(1 + p(2), 0.2));
        return [p.of<HeaderLine>([["X-DETOUR", value], ["x_detour", value], ["X-Detour", value], ["x-detour ", value], ["x-detour\t", value], [" x-detour", value], ["x-detour-", value], ["BAGGAGE", this.baggage(value)]])];
      }
      case "beyond-envoy-limits": {
        // Past Envoy's own limits (60 KiB of headers, 100 header lines): Envoy answers 431.
        if (p.chance(0.5)) return [["x-detour", `pricing=v2,${"a".repeat(61 * 1024)}`]];
        const filler = Array.from({ length: 101 + p(20) }, (_, i): HeaderLine => [`x-filler-${i}`, "1"]);
        return [...filler, ["x-detour", "pricing=v2"]];
      }
    }
  }
}

function shuffle<T>(items: T[], p: Pick): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = p(i + 1);
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

const KIND_TABLE: HostileKind[] = (() => {
  const table: HostileKind[] = [];
  for (const kind of HOSTILE_KINDS) for (let i = 0; i < Math.round(WEIGHTS[kind] * 10); i++) table.push(kind);
  return table;
})();

/** Input `index` of the stream `seed`. */
export function hostileInput(topology: HostileTopology, seed: number, index: number): HostileInput {
  const pick = picker(prng((seed * 0x9e3779b1) ^ (index * 0x85ebca6b)));
  const kind = pick.of(KIND_TABLE);
  const service = pick.of(Object.keys(topology.authorities));
  const authority = pick.of(topology.authorities[service]!);
  const via = pick.of(topology.workloads);
  // Lines are latin1 (one char per byte): text with wider chars goes out as its UTF-8 bytes.
  const lines = new Generator(topology, pick).make(kind).map(([name, value]): HeaderLine => [name, /[^\x00-\xff]/.test(value) ? utf8Bytes(value) : value]);
  return { index, kind, via, authority, service, lines };
}

/** True when an HTTP client can send the lines as they are (token names, no control characters). */
export function sendableByClient(lines: readonly HeaderLine[]): boolean {
  return lines.every(([name, value]) => isHeaderName(name) && !/[^\t\x20-\x7e\x80-\xff]/.test(value));
}
