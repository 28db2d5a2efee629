import http2, { connect, createServer, type ClientHttp2Session, type Http2Server, type ServerHttp2Session, type ServerHttp2Stream } from "node:http2";
import type { AddressInfo } from "node:net";
import { syncBuiltinESMExports } from "node:module";
import { afterEach, describe, expect, it } from "vitest";
import { GrpcServer } from "./grpc-server.js";
import { adoptStreamTables, StreamTable } from "./session-stream-table.js";

describe("StreamTable", () => {
  it("finds, replaces and deletes entries by stream id, keeping the others after a swap", () => {
    const table = new StreamTable<number, string>();
    for (const id of [1, 3, 5, 7]) table.set(id, `s${id}`);
    expect(table.size).toBe(4);
    expect(table.delete(3)).toBe(true);
    expect(table.delete(3)).toBe(false);
    expect(table.size).toBe(3);
    expect([table.get(1), table.get(3), table.get(5), table.get(7)]).toEqual(["s1", undefined, "s5", "s7"]);
    table.set(5, "again");
    expect(table.get(5)).toBe("again");
    expect(table.size).toBe(3);
    expect([...table.keys()].sort()).toEqual([1, 5, 7]);
    expect(table.delete(7)).toBe(true);
    expect(table.delete(1)).toBe(true);
    expect([...table.entries()]).toEqual([[5, "again"]]);
    table.set(9, "s9");
    expect([...table.values()].sort()).toEqual(["again", "s9"]);
    table.clear();
    expect(table.size).toBe(0);
    expect(table.has(9)).toBe(false);
  });

  it("works as a Set of objects (node:http2's pending streams)", () => {
    const table = new StreamTable<object, object>();
    const a = {};
    const b = {};
    table.add(a).add(b).add(a);
    expect(table.size).toBe(2);
    expect(table.has(a)).toBe(true);
    expect(table.delete(a)).toBe(true);
    expect(table.has(a)).toBe(false);
    expect(table.get(b)).toBe(b);
  });

  it("visits the entries present when forEach starts, also those its callback deletes", () => {
    const table = new StreamTable<number, string>();
    for (const id of [1, 3, 5]) table.set(id, `s${id}`);
    const seen: string[] = [];
    table.forEach((value, key) => {
      seen.push(value);
      table.delete(key);
      table.delete(5);
    });
    expect(seen).toEqual(["s1", "s3", "s5"]);
    expect(table.size).toBe(0);
  });
});

describe("adoptStreamTables on real node:http2 sessions", () => {
  let server: Http2Server | undefined;
  let client: ClientHttp2Session | undefined;
  afterEach(async () => {
    client?.destroy();
    client = undefined;
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  function stateOf(session: ServerHttp2Session): { streams: unknown; pendingStreams: unknown } {
    const key = Object.getOwnPropertySymbols(session).find((symbol) => symbol.description === "state");
    const state = (session as unknown as Record<symbol, { streams: unknown; pendingStreams: unknown } | undefined>)[key as symbol];
    if (state === undefined) throw new Error("this Node's http2 session has no state symbol");
    return state;
  }

  async function serve(onStream: (stream: ServerHttp2Stream) => void): Promise<{ port: number; sessions: ServerHttp2Session[]; adopted: boolean[] }> {
    const sessions: ServerHttp2Session[] = [];
    const adopted: boolean[] = [];
    const s = createServer();
    server = s;
    s.on("session", (session) => {
      adopted.push(adoptStreamTables(session));
      sessions.push(session);
    });
    s.on("stream", onStream);
    await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
    return { port: (s.address() as AddressInfo).port, sessions, adopted };
  }

  it("replaces the session's stream Map and Set, and every stream is served through them", async () => {
    const { port, sessions, adopted } = await serve((stream) => {
      stream.on("data", () => {});
      stream.on("end", () => {
        stream.respond({ ":status": 200 });
        stream.end(`stream ${stream.id}`);
      });
    });
    client = connect(`http://127.0.0.1:${port}`);
    const session = client;
    const one = () =>
      new Promise<string>((resolve, reject) => {
        const request = session.request({ ":method": "POST", ":path": "/" });
        let body = "";
        request.setEncoding("utf8").on("data", (chunk: string) => (body += chunk));
        request.on("end", () => resolve(body));
        request.on("error", reject);
        request.end("hello");
      });
    // 300 streams, 25 at a time: ids are looked up, swapped and cleared all the way through.
    const bodies: string[] = [];
    for (let round = 0; round < 12; round++) bodies.push(...(await Promise.all(Array.from({ length: 25 }, one))));
    expect(bodies).toHaveLength(300);
    expect(new Set(bodies).size).toBe(300);
    expect(adopted).toEqual([true]);
    const state = stateOf(sessions[0] as ServerHttp2Session);
    expect(state.streams).toBeInstanceOf(StreamTable);
    expect(state.pendingStreams).toBeInstanceOf(StreamTable);
    expect((state.streams as StreamTable<number, unknown>).size).toBe(0);
    // Already adopted: not node's Map and Set any more, so it is left alone.
    expect(adoptStreamTables(sessions[0] as ServerHttp2Session)).toBe(false);
  });

  it("destroys every open stream when the session is destroyed (node:http2 iterates the table)", async () => {
    const open: ServerHttp2Stream[] = [];
    const { port, sessions } = await serve((stream) => {
      stream.on("error", () => {});
      open.push(stream);
    });
    client = connect(`http://127.0.0.1:${port}`);
    client.on("error", () => {});
    const session = client;
    const closed = Array.from({ length: 5 }, () => {
      const request = session.request({ ":method": "POST", ":path": "/" });
      request.on("error", () => {});
      return new Promise<void>((resolve) => request.on("close", resolve));
    });
    await new Promise<void>((resolve) => {
      const wait = () => (open.length === 5 ? resolve() : setTimeout(wait, 5));
      wait();
    });
    (sessions[0] as ServerHttp2Session).destroy();
    await Promise.all(closed);
    expect(open.every((stream) => stream.destroyed)).toBe(true);
    expect((stateOf(sessions[0] as ServerHttp2Session).streams as StreamTable<number, unknown>).size).toBe(0);
  });
});

describe("GrpcServer", () => {
  it("gives each session StreamTables before its first stream", async () => {
    // Catch the node:http2 server GrpcServer creates, to look at its sessions.
    const original = http2.createServer;
    let created: Http2Server | undefined;
    http2.createServer = ((...args: Parameters<typeof original>) => (created = original(...args))) as typeof original;
    syncBuiltinESMExports();
    let grpc: GrpcServer;
    try {
      grpc = new GrpcServer();
    } finally {
      http2.createServer = original;
      syncBuiltinESMExports();
    }
    const sessionState = new Promise<unknown>((resolve) =>
      created?.on("session", (session: ServerHttp2Session) => {
        const key = Object.getOwnPropertySymbols(session).find((symbol) => symbol.description === "state");
        resolve((session as unknown as Record<symbol, { streams: unknown }>)[key as symbol]?.streams);
      }),
    );
    const port = await grpc.listen("127.0.0.1", 0);
    const session = connect(`http://127.0.0.1:${port}`);
    try {
      expect(await sessionState).toBeInstanceOf(StreamTable);
    } finally {
      session.destroy();
      await grpc.shutdown(500);
    }
  });
});
