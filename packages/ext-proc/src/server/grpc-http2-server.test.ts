import { connect } from "node:http2";
import { credentials, makeClientConstructor, makeGenericClientConstructor, Metadata, status, type Client, type ServiceError } from "@grpc/grpc-js";
import { HealthImplementation, service as healthService } from "grpc-health-check";
import { afterEach, describe, expect, it } from "vitest";
import { GrpcHttp2Server, type GrpcServerCall } from "./grpc-http2-server.js";

const echo = (bytes: Buffer) => bytes;
const ECHO = {
  Chat: { path: "/test.Echo/Chat", requestStream: true, responseStream: true, requestSerialize: echo, requestDeserialize: echo, responseSerialize: echo, responseDeserialize: echo },
  Once: { path: "/test.Echo/Once", requestStream: false, responseStream: false, requestSerialize: echo, requestDeserialize: echo, responseSerialize: echo, responseDeserialize: echo },
};

let server: GrpcHttp2Server | undefined;
let clients: Client[] = [];
afterEach(async () => {
  for (const client of clients) client.close();
  clients = [];
  await server?.shutdown(500);
  server = undefined;
});

async function start(setup: (s: GrpcHttp2Server) => void): Promise<number> {
  server = new GrpcHttp2Server();
  setup(server);
  return server.listen("127.0.0.1", 0);
}

function echoClient(port: number) {
  const Echo = makeGenericClientConstructor(ECHO, "Echo");
  const client = new Echo(`127.0.0.1:${port}`, credentials.createInsecure());
  clients.push(client);
  return client as unknown as {
    Chat(md?: Metadata): import("@grpc/grpc-js").ClientDuplexStream<Buffer, Buffer>;
    Once(request: Buffer, callback: (error: ServiceError | null, value?: Buffer) => void): void;
  };
}

describe("GrpcHttp2Server", () => {
  it("serves bidi streams with metadata, and unary calls with status errors", async () => {
    const port = await start((s) =>
      s.addService(ECHO, {
        Chat: (call: GrpcServerCall) => {
          const who = call.metadata.get("x-who")[0] ?? "?";
          call.on("data", (message: Buffer) => call.write(Buffer.from(`${who}:${message.toString()}`)));
          call.on("end", () => call.end());
        },
        Once: (call: GrpcServerCall, callback: (error: { code: number; details: string } | null, value?: Buffer) => void) => {
          const text = (call.request as Buffer).toString();
          if (text === "fail") callback({ code: status.FAILED_PRECONDITION, details: "asked to fail" });
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
    chat.write(Buffer.alloc(70_000, "b"));
    chat.end();
    expect(await ended).toBe(status.OK);
    expect(replies[0]).toBe("ann:a");
    expect(replies[1]).toHaveLength(70_004);

    const upper = await new Promise<string>((resolve, reject) => client.Once(Buffer.from("hi"), (e, v) => (e ? reject(e) : resolve(v!.toString()))));
    expect(upper).toBe("HI");
    const failure = await new Promise<ServiceError>((resolve) => client.Once(Buffer.from("fail"), (e) => resolve(e!)));
    expect(failure.code).toBe(status.FAILED_PRECONDITION);
    expect(failure.details).toBe("asked to fail");
  });

  it("answers UNIMPLEMENTED for unknown methods and refuses compressed messages", async () => {
    const port = await start((s) => s.addService({ Chat: ECHO.Chat }, { Chat: (call: GrpcServerCall) => call.on("data", () => call.write(Buffer.from("x"))) }));
    const session = connect(`http://127.0.0.1:${port}`);
    const ask = (path: string, body: Buffer) =>
      new Promise<Record<string, unknown>>((resolve) => {
        const stream = session.request({ ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers" });
        let trailers: Record<string, unknown> = {};
        stream.on("response", (headers) => (trailers = { ...headers }));
        stream.on("trailers", (t) => (trailers = { ...trailers, ...t }));
        stream.on("data", () => undefined);
        stream.on("close", () => resolve(trailers));
        stream.end(body);
      });
    const unknown = await ask("/nope.Service/Method", Buffer.alloc(0));
    expect(unknown["grpc-status"]).toBe(String(status.UNIMPLEMENTED));
    const compressed = await ask("/test.Echo/Chat", Buffer.from([1, 0, 0, 0, 1, 0x41]));
    expect(compressed["grpc-status"]).toBe(String(status.INTERNAL));
    session.close();
  });

  it("runs grpc-health-check's HealthImplementation: Check and Watch", async () => {
    const health = new HealthImplementation({ "": "SERVING" });
    const port = await start((s) => health.addToServer(s));
    const Health = makeClientConstructor(healthService as never, "Health");
    const client = new Health(`127.0.0.1:${port}`, credentials.createInsecure()) as unknown as Client & {
      check(request: { service: string }, callback: (error: ServiceError | null, response?: { status: string }) => void): void;
      watch(request: { service: string }): import("@grpc/grpc-js").ClientReadableStream<{ status: string }>;
    };
    clients.push(client);
    const checked = await new Promise<string>((resolve, reject) => client.check({ service: "" }, (e, r) => (e ? reject(e) : resolve(r!.status))));
    expect(checked).toBe("SERVING");
    const unknown = await new Promise<ServiceError>((resolve) => client.check({ service: "other" }, (e) => resolve(e!)));
    expect(unknown.code).toBe(status.NOT_FOUND);
    const watch = client.watch({ service: "" });
    const seen: string[] = [];
    watch.on("error", () => undefined);
    watch.on("data", (update: { status: string }) => {
      seen.push(update.status);
      if (seen.length === 1) health.setStatus("", "NOT_SERVING");
    });
    for (let i = 0; i < 200 && seen.length < 2; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(seen).toEqual(["SERVING", "NOT_SERVING"]);
    watch.cancel();
  });

  it("drains gracefully: an open stream may finish, then shutdown resolves", async () => {
    let serverCall: GrpcServerCall | undefined;
    const port = await start((s) =>
      s.addService({ Chat: ECHO.Chat }, {
        Chat: (call: GrpcServerCall) => {
          serverCall = call;
          call.on("data", (m: Buffer) => call.write(m));
          call.on("end", () => call.end());
        },
      }),
    );
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
    expect(replies).toEqual(["one", "two"]);
    expect(serverCall?.cancelled).toBe(false);
  });
});
