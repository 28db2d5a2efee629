#!/usr/bin/env node
// Generates protobuf-es TypeScript for the Envoy ext_proc service into packages/ext-proc/src/gen.
// The .proto trees come from the npm package @grpc/grpc-js-xds (its deps/ folder), pinned in the
// root package.json; nothing is vendored. buf and protoc-gen-es also come from npm (pinned).
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
for (const tree of ["envoy-api", "xds", "protoc-gen-validate", "googleapis"]) {
  const target = join(xdsDeps, tree);
  if (!existsSync(target)) {
    console.error(`gen-proto: ${target} is missing; run npm ci (the protos ship in @grpc/grpc-js-xds)`);
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
