// A stack is what one or more scenarios send load to: an Envoy (and for ext_proc scenarios the
// ext_proc server behind it) in front of the shared upstream. Each start function returns
// { envoy, listener, extProc?: {pid, name}, expectStats } or throws; the harness turns a throw
// into an "error" row and goes on with the other scenarios.
import { startChild } from "./child-processes.mjs";
import { loadDetour, startDetourStack, BENCH_WORKLOAD } from "./detour-stack.mjs";
import { startEnvoy } from "./envoy-runner.mjs";
import { extProcPeerBootstrap, luaBootstrap, plainBootstrap, LISTENER } from "./envoy-configs.mjs";

/** `pricing=v1,v2;cart=v1,pr-7`: the topology as the peers' -topology flag takes it. */
export function topologyFlag(topology) {
  return Object.entries(topology).map(([service, spec]) => `${service}=${spec.versions.join(",")}`).join(";");
}

/** The shared upstream: one listener per service version, all in one Go process. */
export async function startUpstream({ bin, topology, cpus }) {
  const args = [];
  for (const [service, spec] of Object.entries(topology)) {
    for (const version of spec.versions) args.push("-serve", `${service}@${version}=127.0.0.1:0`);
  }
  const proc = startChild("upstream", bin, args, { cpus, env: { GOMAXPROCS: "1" } });
  const count = args.length / 2;
  const endpoints = {};
  await proc.waitFor(new RegExp(`(listening \\S+ \\S+\\n[^]*){${count}}`));
  for (const match of proc.output().matchAll(/^listening (\S+) (127\.0\.0\.1):(\d+)$/gm)) {
    endpoints[match[1]] = { host: match[2], port: Number(match[3]) };
  }
  return { proc, endpoints };
}

export async function startPeerServer(name, bin, topology, cpus, env) {
  const proc = startChild(name, bin, ["-listen", "127.0.0.1:0", "-topology", topologyFlag(topology)], { cpus, env });
  const match = await proc.waitFor(/^listening 127\.0\.0\.1:(\d+)$/m);
  return { proc, host: "127.0.0.1", port: Number(match[1]) };
}

export const STACKS = {
  plain: {
    title: "plain Envoy",
    async start(ctx) {
      const envoy = await startEnvoy("envoy-plain", { ...ctx.envoyOptions, bootstrap: plainBootstrap(ctx) });
      return { envoy, listener: LISTENER };
    },
  },
  lua: {
    title: "Envoy + Lua filter",
    async start(ctx) {
      const envoy = await startEnvoy("envoy-lua", { ...ctx.envoyOptions, bootstrap: luaBootstrap(ctx) });
      return { envoy, listener: LISTENER };
    },
  },
  go: {
    title: "Envoy + Go ext_proc (go-control-plane)",
    async start(ctx) {
      // GOMAXPROCS stays at Go's default (all cores), as a user would run it.
      const peer = await startPeerServer("go-extproc", ctx.tools["go-extproc"], ctx.topology, ctx.cpus.extProc);
      const envoy = await startEnvoy("envoy-go", { ...ctx.envoyOptions, bootstrap: extProcPeerBootstrap({ ...ctx, extProc: peer, workload: BENCH_WORKLOAD }) });
      return { envoy, listener: LISTENER, extProc: { name: "go-extproc", proc: peer.proc }, runtime: ctx.runtimes?.go };
    },
  },
  rust: {
    title: "Envoy + Rust ext_proc (tonic + envoy-types)",
    available(ctx) {
      return ctx.tools["rust-tonic"] ? { available: true } : { available: false, reason: "optional Rust peer not built (no cargo; BENCH_RUST=skip; or --quick before a full run built it)" };
    },
    async start(ctx) {
      const peer = await startPeerServer("rust-tonic", ctx.tools["rust-tonic"], ctx.topology, ctx.cpus.extProc);
      const envoy = await startEnvoy("envoy-rust", { ...ctx.envoyOptions, bootstrap: extProcPeerBootstrap({ ...ctx, extProc: peer, workload: BENCH_WORKLOAD }) });
      return { envoy, listener: LISTENER, extProc: { name: "rust-tonic", proc: peer.proc }, runtime: ctx.runtimes?.rust };
    },
  },
  detour: {
    title: "Envoy + detour ext_proc (generated sidecar config)",
    async available(ctx) {
      ctx.detour ??= await loadDetour();
      return ctx.detour;
    },
    start: (ctx) => startDetourStack(ctx),
  },
};
