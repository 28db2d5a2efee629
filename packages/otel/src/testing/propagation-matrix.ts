/*
 * The propagation matrix as data: which override a request arrives with (carriers), which client
 * the service calls its upstream with (clients), and what async boundary lies between receiving
 * the request and making the call (boundaries). Every framework test runs the cross product, so a
 * new case is one entry in one of these tables.
 */
import { EventEmitter } from "node:events";
import http from "node:http";
import { get as namedHttpGet } from "node:http";
import { Readable, Transform, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { context } from "@opentelemetry/api";
import axios from "axios";
import { request as undiciRequest, fetch as undiciFetch } from "undici";

export interface CarrierCase {
  readonly name: string;
  /** Headers the test client sends to the service. */
  readonly headers: Readonly<Record<string, string>>;
  /** Canonical override the upstream must receive, undefined for none. */
  readonly expected: string | undefined;
  /** Baggage members (key=value as on the wire) that must still reach the upstream. */
  readonly keepsBaggage?: readonly string[];
  /** The x-detour-token the upstream must receive, unchanged; undefined: it must receive none. */
  readonly expectedToken?: string;
}

/** Shaped like a JWS; nothing on the application side parses or verifies it (the sidecar does). */
const SAMPLE_TOKEN = "eyJhbGciOiJFZERTQSIsImtpZCI6IjIwMjUtMDYifQ.eyJzZXQiOiJwcmljaW5nPXYyIn0.c2lnbmF0dXJl";

export const CARRIERS: readonly CarrierCase[] = [
  { name: "x-detour header", headers: { "x-detour": "pricing=v2, cart=pr-7" }, expected: "pricing=v2,cart=pr-7" },
  {
    name: "baggage member only",
    headers: { baggage: "foo=bar,detour=pricing%3Dv2" },
    expected: "pricing=v2",
    keepsBaggage: ["foo=bar"],
  },
  { name: "alias header x-override", headers: { "x-override": "pricing:v2" }, expected: "pricing=v2" },
  {
    name: "alias baggage okteto-divert",
    headers: { baggage: "okteto-divert=sbx-1" },
    expected: "*=sbx-1",
    keepsBaggage: ["okteto-divert=sbx-1"],
  },
  {
    name: "x-detour beats baggage",
    headers: { "x-detour": "pricing=v3", baggage: "detour=pricing%3Dv2,foo=bar;p=1" },
    expected: "pricing=v3",
    keepsBaggage: ["foo=bar;p=1"],
  },
  {
    name: "x-detour with x-detour-token",
    headers: { "x-detour": "pricing=v2", "x-detour-token": SAMPLE_TOKEN },
    expected: "pricing=v2",
    expectedToken: SAMPLE_TOKEN,
  },
  { name: "no override", headers: {}, expected: undefined },
  { name: "invalid x-detour only", headers: { "x-detour": "pricing" }, expected: undefined },
  {
    name: "invalid baggage member only",
    headers: { baggage: "detour=pricing%3DNOT%20VALID!,foo=bar" },
    expected: undefined,
    keepsBaggage: ["foo=bar"],
  },
];

/** Makes one GET to `url` and resolves when the response is fully read. */
export type Call = (url: string) => Promise<void>;

export interface ClientCase {
  readonly name: string;
  readonly call: Call;
}

function readAll(res: http.IncomingMessage, resolve: () => void, reject: (e: Error) => void): void {
  res.on("error", reject);
  res.resume();
  res.on("end", resolve);
}

export const CLIENTS: readonly ClientCase[] = [
  { name: "global fetch", call: async (url) => void (await (await fetch(url)).text()) },
  { name: "undici request", call: async (url) => void (await (await undiciRequest(url)).body.text()) },
  { name: "undici fetch", call: async (url) => void (await (await undiciFetch(url)).text()) },
  {
    name: "http.request",
    call: (url) =>
      new Promise<void>((resolve, reject) => {
        const req = http.request(url, { method: "GET" }, (res) => readAll(res, resolve, reject));
        req.on("error", reject);
        req.end();
      }),
  },
  {
    // A named ESM import of a built-in: covered only because setupDetour re-syncs the ESM exports.
    name: "http.get (named import)",
    call: (url) =>
      new Promise<void>((resolve, reject) => {
        namedHttpGet(url, (res) => readAll(res, resolve, reject)).on("error", reject);
      }),
  },
  { name: "axios", call: async (url) => void (await axios.get(url, { responseType: "text" })) },
];

export interface BoundaryCase {
  readonly name: string;
  /** Makes the call on the far side of an async boundary. */
  readonly run: (call: () => Promise<void>) => Promise<void>;
}

/** A port nothing listens on: connecting fails at once with ECONNREFUSED. */
const DEAD_URL = "http://127.0.0.1:1/";

/** An ORM-style thenable (not a Promise) that settles later (nodejs/node#27599). */
function thenable(): PromiseLike<void> {
  return {
    then(onFulfilled, onRejected) {
      return new Promise<void>((resolve) => setTimeout(resolve, 1)).then(onFulfilled, onRejected);
    },
  };
}

/** Emitted from a different context than the listener's: the request's listener must be bound. */
const sharedEmitter = new EventEmitter();
const sharedTicker = setInterval(() => sharedEmitter.emit("tick"), 2);
sharedTicker.unref();

export const BOUNDARIES: readonly BoundaryCase[] = [
  { name: "synchronous", run: (call) => call() },
  {
    name: "after await",
    run: async (call) => {
      await Promise.resolve();
      await sleep(1);
      await call();
    },
  },
  { name: "setTimeout", run: (call) => new Promise((resolve, reject) => setTimeout(() => call().then(resolve, reject), 1)) },
  { name: "setImmediate", run: (call) => new Promise((resolve, reject) => setImmediate(() => call().then(resolve, reject))) },
  { name: "queueMicrotask", run: (call) => new Promise((resolve, reject) => queueMicrotask(() => call().then(resolve, reject))) },
  { name: "process.nextTick", run: (call) => new Promise((resolve, reject) => process.nextTick(() => call().then(resolve, reject))) },
  {
    name: "EventEmitter callback",
    run: (call) =>
      new Promise((resolve, reject) => {
        const emitter = new EventEmitter();
        emitter.once("ready", () => call().then(resolve, reject));
        setTimeout(() => emitter.emit("ready"), 1);
      }),
  },
  {
    name: "stream pipeline",
    run: (call) =>
      pipeline(
        Readable.from(["a", "b"]),
        new Transform({
          transform(chunk, _encoding, done) {
            call().then(() => done(null, chunk), done);
          },
        }),
        new Writable({
          write(_chunk, _encoding, done) {
            done();
          },
        }),
      ),
  },
  {
    name: "after a failed call's catch",
    run: async (call) => {
      try {
        await fetch(DEAD_URL);
      } catch {
        // expected: nothing listens there
      }
      await call();
    },
  },
  {
    name: "awaited thenable",
    run: async (call) => {
      await thenable();
      await call();
    },
  },
  {
    // The documented fix for emitters shared across requests (open-telemetry/opentelemetry-js#4001):
    // a listener runs in the emitter's context unless bound to the request's.
    name: "shared EventEmitter, listener bound",
    run: (call) =>
      new Promise((resolve, reject) => {
        sharedEmitter.once("tick", context.bind(context.active(), () => call().then(resolve, reject)));
      }),
  },
  { name: "Promise.all", run: async (call) => void (await Promise.all([sleep(1).then(call)])) },
];

/** Every (carrier, client, boundary) combination. */
export function matrixCases(): { carrier: CarrierCase; client: ClientCase; boundary: BoundaryCase }[] {
  const cases = [];
  for (const carrier of CARRIERS) {
    for (const client of CLIENTS) {
      for (const boundary of BOUNDARIES) cases.push({ carrier, client, boundary });
    }
  }
  return cases;
}
