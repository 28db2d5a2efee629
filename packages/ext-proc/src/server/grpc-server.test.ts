import { request as httpRequest } from "node:http";
import { connect, type ClientHttp2Session } from "node:http2";
import { credentials, makeClientConstructor, makeGenericClientConstructor, Metadata, status, type Client, type ClientDuplexStream, type ClientReadableStream, type ServiceError } from "@grpc/grpc-js";
import { service as healthService } from "grpc-health-check";
import { afterEach, describe, expect, it } from "vitest";
import { MAX_MESSAGE_BYTES, type GrpcCall } from "./grpc-call.js";
import { GrpcServer } from "./grpc-server.js";
import { HealthService } from "./health-service.js";

const echo = (bytes: Buffer) => bytes;
const ECHO = {
  Chat: { path: "/test.Echo/Chat", requestStream: true, responseStream: true, requestSerialize: echo, requestDeserialize: echo, responseSerialize: echo, responseDeserialize: echo },
  Once: { path: "/test.Echo/Once", requestStream: false, responseStream: false, requestSerialize: echo, requestDeserialize: echo, responseSerialize: echo, responseDeserialize: echo },
};

/** A Chat handler that answers every message with `who:message` and ends OK on half-close. */
function chatHandler(call: GrpcCall): void {
  const who = call.metadata.get("x-who")[0] ?? "?";
  call.on("data", (message: Buffer) => call.write(Buffer.from(`${who}:${message.toString()}`)));
  call.on("end", () => call.end());
}

let server: GrpcServer | undefined;
let clients: Client[] = [];
let sessions: ClientHttp2Session[] = [];
afterEach(async () => {
  for (const client of clients) client.close();
  for (const session of sessions) session.destroy();
  clients = [];
  sessions = [];
  await server?.shutdown(500);
  server = undefined;
});

async function start(setup: (s: GrpcServer) => void): Promise<number> {
  server = new GrpcServer();
  setup(server);
  return server.listen("127.0.0.1", 0);
}

function echoClient(port: number) {
  const Echo = makeGenericClientConstructor(ECHO, "Echo");
  const client = new Echo(`127.0.0.1:${port}`, credentials.createInsecure());
  clients.push(client);
  return client as unknown as {
    Chat(md?: Metadata): ClientDuplexStream<Buffer, Buffer>;
    Once(request: Buffer, callback: (error: ServiceError | null, value?: Buffer) => void): void;
  };
}

/** A gRPC message with its 5-byte prefix; `flag` 1 marks it compressed. */
function frame(text: string, flag = 0): Buffer {
  const payload = Buffer.from(text);
  const prefix = Buffer.alloc(5);
  prefix[0] = flag;
  prefix.writeUInt32BE(payload.length, 1);
  return Buffer.concat([prefix, payload]);
}

/** A raw HTTP/2 request: the body in the given writes, then end; the messages, headers and trailers back. */
function rawCall(port: number, path: string, writes: Buffer[], headers: Record<string, string> = {}) {
  const session = connect(`http://127.0.0.1:${port}`);
  sessions.push(session);
  return new Promise<{ headers: Record<string, unknown>; messages: string[] }>((resolve) => {
    const stream = session.request({ ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers", ...headers });
    let seen: Record<string, unknown> = {};
    let body = Buffer.alloc(0);
    stream.on("response", (h) => (seen = { ...h }));
    stream.on("trailers", (t) => (seen = { ...seen, ...t }));
    stream.on("data", (chunk: Buffer) => (body = Buffer.concat([body, chunk])));
    stream.on("close", () => {
      const messages: string[] = [];
      for (let offset = 0; offset + 5 <= body.length; ) {
        const length = body.readUInt32BE(offset + 1);
        messages.push(body.subarray(offset + 5, offset + 5 + length).toString());
        offset += 5 + length;
      }
      resolve({ headers: seen, messages });
    });
    stream.on("error", () => undefined);
    for (const write of writes) stream.write(write);
    stream.end();
  });
}

describe("GrpcServer", () => {
  it("serves bidi streams with metadata, and unary calls with status errors, to a grpc-js client", async () => {
    const port = await start((s) =>
      s.addService(ECHO, {
        Chat: chatHandler,
        Once: (call: GrpcCall, callback: (error: { code: number; details: string } | null, value?: Buffer) => void) => {
          const text = (call.request as Buffer).toString();
          if (text === "fail") callback({ code: status.FAILED_PRECONDITION, details: "asked to fail: 100% sure" });
          else callback(null, Buffer.from(text.toUpperCase()));
        },
      }),
    );
    const client = echoClient(port);
    const md = new Metadata();
    md.set("x-who", "ann");
    const chat = client.Chat(md);
    const replies: string[] = [];
    chat.on("data", (reply: Buffer) => replies.push(reply.toString()));
    const ended = new Promise<number>((resolve) => chat.on("status", (s) => resolve(s.code)));
    chat.write(Buffer.from("a"));
    // Larger than a DATA frame (16 KiB) and the initial window: arrives in several chunks.
    chat.write(Buffer.alloc(70_000, "b"));
    chat.end();
    expect(await ended).toBe(status.OK);
    expect(replies[0]).toBe("ann:a");
    expect(replies[1]).toHaveLength(70_004);

    const upper = await new Promise<string>((resolve, reject) => client.Once(Buffer.from("hi"), (e, v) => (e ? reject(e) : resolve(v!.toString()))));
    expect(upper).toBe("HI");
    const failure = await new Promise<ServiceError>((resolve) => client.Once(Buffer.from("fail"), (e) => resolve(e!)));
    expect(failure.code).toBe(status.FAILED_PRECONDITION);
    expect(failure.details).toBe("asked to fail: 100% sure");
  });

  it("reads messages split across writes and several messages in one write, in order", async () => {
    const port = await start((s) => s.addService({ Chat: ECHO.Chat }, { Chat: chatHandler }));
    const one = frame("one");
    const two = frame("two");
    const three = frame("three");
    const { headers, messages } = await rawCall(port, ECHO.Chat.path, [Buffer.concat([one, two.subarray(0, 3)]), two.subarray(3), three.subarray(0, 6), three.subarray(6)]);
    expect(messages).toEqual(["?:one", "?:two", "?:three"]);
    expect(headers["grpc-status"]).toBe("0");
    expect(headers["date"]).toBeUndefined();
  });

  it("answers UNIMPLEMENTED for unknown methods and compressed messages, RESOURCE_EXHAUSTED for oversized ones, 415 for a non-gRPC request", async () => {
    const port = await start((s) => s.addService({ Chat: ECHO.Chat }, { Chat: chatHandler }));
    const unknown = await rawCall(port, "/nope.Service/Method", []);
    expect(unknown.headers["grpc-status"]).toBe(String(status.UNIMPLEMENTED));
    const compressed = await rawCall(port, ECHO.Chat.path, [frame("A", 1)]);
    expect(compressed.headers["grpc-status"]).toBe(String(status.UNIMPLEMENTED));
    expect(compressed.messages).toEqual([]);
    const oversized = Buffer.alloc(5);
    oversized.writeUInt32BE(MAX_MESSAGE_BYTES + 1, 1);
    const tooBig = await rawCall(port, ECHO.Chat.path, [oversized]);
    expect(tooBig.headers["grpc-status"]).toBe(String(status.RESOURCE_EXHAUSTED));
    const json = await rawCall(port, ECHO.Chat.path, [], { "content-type": "application/json" });
    expect(json.headers[":status"]).toBe(415);
  });

  it("answers UNKNOWN when a handler throws, and keeps serving", async () => {
    let calls = 0;
    const port = await start((s) =>
      s.addService({ Chat: ECHO.Chat }, {
        Chat: (call: GrpcCall) => {
          if (calls++ === 0) throw new Error("handler bug");
          chatHandler(call);
        },
      }),
    );
    const broken = await rawCall(port, ECHO.Chat.path, [frame("x")]);
    expect(broken.headers["grpc-status"]).toBe(String(status.UNKNOWN));
    const next = await rawCall(port, ECHO.Chat.path, [frame("y")]);
    expect(next.messages).toEqual(["?:y"]);
  });

  it("answers UNKNOWN when a handler's data or end listener throws, and keeps serving", async () => {
    const port = await start((s) =>
      s.addService({ Chat: ECHO.Chat }, {
        Chat: (call: GrpcCall) => {
          call.on("data", (message: Buffer) => {
            if (message.toString() === "throw") throw new Error("listener bug");
            call.write(message);
          });
          call.on("end", () => {
            throw new Error("end listener bug");
          });
        },
      }),
    );
    const inData = await rawCall(port, ECHO.Chat.path, [frame("throw")]);
    expect(inData.headers["grpc-status"]).toBe(String(status.UNKNOWN));
    const inEnd = await rawCall(port, ECHO.Chat.path, [frame("fine")]);
    expect(inEnd.messages).toEqual(["fine"]);
    expect(inEnd.headers["grpc-status"]).toBe(String(status.UNKNOWN));
  });

  it("answers INTERNAL for a request message that does not parse (health Check, a bidi method), and keeps serving", async () => {
    const failing = (bytes: Buffer): Buffer => {
      if (bytes.toString() === "bad") throw new Error("truncated message");
      return bytes;
    };
    const health = new HealthService({ "": "SERVING" });
    const port = await start((s) => {
      health.addToServer(s);
      s.addService({ Chat: { ...ECHO.Chat, requestDeserialize: failing } }, { Chat: chatHandler });
    });
    // A varint field's tag with no value after it: the message cannot be parsed.
    const check = await rawCall(port, "/grpc.health.v1.Health/Check", [Buffer.from([0, 0, 0, 0, 1, 0x08])]);
    expect(check.headers["grpc-status"]).toBe(String(status.INTERNAL));
    const chat = await rawCall(port, ECHO.Chat.path, [frame("bad"), frame("after")]);
    expect(chat.headers["grpc-status"]).toBe(String(status.INTERNAL));
    expect(chat.messages).toEqual([]);
    const next = await rawCall(port, ECHO.Chat.path, [frame("y")]);
    expect(next.messages).toEqual(["?:y"]);
  });

  it("drops a connection that does not speak HTTP/2", async () => {
    const port = await start((s) => s.addService({ Chat: ECHO.Chat }, { Chat: chatHandler }));
    const outcome = await new Promise<string>((resolve) => {
      const req = httpRequest({ host: "127.0.0.1", port, path: "/" }, (res) => resolve(`status ${res.statusCode}`));
      req.on("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? "error"));
      req.end();
    });
    expect(outcome).toMatch(/ECONNRESET|socket hang up|HPE_/);
  });

  /** A grpc.health.v1 client built by grpc-js from grpc-health-check's own health.proto. */
  function healthClient(port: number) {
    const Health = makeClientConstructor(healthService as never, "Health");
    const client = new Health(`127.0.0.1:${port}`, credentials.createInsecure()) as unknown as Client & {
      check(request: { service: string }, callback: (error: ServiceError | null, response?: { status: string }) => void): void;
      watch(request: { service: string }): ClientReadableStream<{ status: string }>;
      list(request: object, callback: (error: ServiceError | null, response?: { statuses: Record<string, { status: string }> }) => void): void;
    };
    clients.push(client);
    return client;
  }

  it("serves grpc.health.v1 to grpc-js's client: Check, Watch, and Watch ended by shutdown", async () => {
    const health = new HealthService({ "": "SERVING" });
    const port = await start((s) => health.addToServer(s));
    const client = healthClient(port);
    const checked = await new Promise<string>((resolve, reject) => client.check({ service: "" }, (e, r) => (e ? reject(e) : resolve(r!.status))));
    expect(checked).toBe("SERVING");
    const unknown = await new Promise<ServiceError>((resolve) => client.check({ service: "other" }, (e) => resolve(e!)));
    expect(unknown.code).toBe(status.NOT_FOUND);
    const watch = client.watch({ service: "" });
    const seen: string[] = [];
    const watchEnded = new Promise<number>((resolve) => {
      watch.on("status", (s) => resolve(s.code));
      watch.on("error", (error: ServiceError) => resolve(error.code));
    });
    watch.on("data", (update: { status: string }) => {
      seen.push(update.status);
      if (seen.length === 1) health.setStatus("", "NOT_SERVING");
    });
    for (let i = 0; i < 200 && seen.length < 2; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(seen).toEqual(["SERVING", "NOT_SERVING"]);
    await server!.shutdown(2_000);
    server = undefined;
    expect(await watchEnded).toBe(status.OK);
  });

  it("answers health List, SERVICE_UNKNOWN to a Watch of an unknown service, and forgets a cancelled Watch", async () => {
    const health = new HealthService({ "": "NOT_SERVING", "envoy.service.ext_proc.v3.ExternalProcessor": "SERVING" });
    const port = await start((s) => health.addToServer(s));
    const client = healthClient(port);
    const listed = await new Promise<Record<string, { status: string }>>((resolve, reject) => client.list({}, (e, r) => (e ? reject(e) : resolve(r!.statuses))));
    expect(listed).toEqual({ "": { status: "NOT_SERVING" }, "envoy.service.ext_proc.v3.ExternalProcessor": { status: "SERVING" } });

    const watch = client.watch({ service: "later" });
    const seen: string[] = [];
    watch.on("data", (update: { status: string }) => seen.push(update.status));
    watch.on("error", () => {});
    for (let i = 0; i < 200 && seen.length < 1; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(seen).toEqual(["SERVICE_UNKNOWN"]);
    health.setStatus("later", "SERVING");
    for (let i = 0; i < 200 && seen.length < 2; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(seen).toEqual(["SERVICE_UNKNOWN", "SERVING"]);

    // A cancelled Watch is dropped: a later status change writes to no call.
    const cancelled = new Promise<void>((resolve) => watch.on("status", () => resolve()));
    watch.cancel();
    await cancelled;
    for (let i = 0; i < 200 && health.watchCount("later") > 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(health.watchCount("later")).toBe(0);
    health.setStatus("later", "NOT_SERVING");
    expect(seen).toEqual(["SERVICE_UNKNOWN", "SERVING"]);
  });

  it("drains gracefully: an open stream may finish, then shutdown resolves", async () => {
    const port = await start((s) => s.addService({ Chat: ECHO.Chat }, { Chat: chatHandler }));
    const chat = echoClient(port).Chat();
    const replies: string[] = [];
    chat.on("data", (m: Buffer) => replies.push(m.toString()));
    const ended = new Promise<number>((resolve) => chat.on("status", (s) => resolve(s.code)));
    chat.write(Buffer.from("one"));
    for (let i = 0; i < 200 && replies.length < 1; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    const stopping = server!.shutdown(10_000);
    chat.write(Buffer.from("two"));
    for (let i = 0; i < 200 && replies.length < 2; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    chat.end();
    expect(await ended).toBe(status.OK);
    await stopping;
    server = undefined;
    expect(replies).toEqual(["?:one", "?:two"]);
  });

  it("resets the streams still open when the grace period ends", async () => {
    const port = await start((s) => s.addService({ Chat: ECHO.Chat }, { Chat: chatHandler }));
    const chat = echoClient(port).Chat();
    const replies: string[] = [];
    chat.on("data", (m: Buffer) => replies.push(m.toString()));
    const ended = new Promise<number>((resolve) => {
      chat.on("status", (s) => resolve(s.code));
      chat.on("error", (error: ServiceError) => resolve(error.code));
    });
    chat.write(Buffer.from("one"));
    for (let i = 0; i < 200 && replies.length < 1; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    await server!.shutdown(100);
    server = undefined;
    expect(await ended).not.toBe(status.OK);
  });
});
