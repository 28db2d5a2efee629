#!/usr/bin/env node
// Generates protobuf-es TypeScript for the Envoy ext_proc service and gRPC's health service into
// packages/ext-proc/src/gen. The .proto trees come from npm packages pinned in the root
// package.json: Envoy's from @grpc/grpc-js-xds (its deps/ folder), grpc.health.v1 from
// grpc-health-check (its proto/ folder); nothing is vendored. buf and protoc-gen-es also come
// from npm (pinned).
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync, symlinkSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(join(root, "package.json"));
const xdsDeps = join(dirname(require.resolve("@grpc/grpc-js-xds/package.json")), "deps");
const linkDir = join(root, "proto", ".deps");

rmSync(linkDir, { recursive: true, force: true });
mkdirSync(linkDir, { recursive: true });
const healthProtos = join(dirname(require.resolve("grpc-health-check/package.json")), "proto");
const trees = {
  "envoy-api": join(xdsDeps, "envoy-api"),
  xds: join(xdsDeps, "xds"),
  "protoc-gen-validate": join(xdsDeps, "protoc-gen-validate"),
  googleapis: join(xdsDeps, "googleapis"),
  "grpc-health": healthProtos,
};
for (const [tree, target] of Object.entries(trees)) {
  if (!existsSync(target)) {
    console.error(`gen-proto: ${target} is missing; run npm ci (the protos ship in @grpc/grpc-js-xds and grpc-health-check)`);
    process.exit(1);
  }
  symlinkSync(target, join(linkDir, tree), "dir");
}

const bin = join(root, "node_modules", ".bin");
execFileSync(join(bin, "buf"), ["generate"], {
  cwd: join(root, "proto"),
  stdio: "inherit",
  env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ""}` },
});
