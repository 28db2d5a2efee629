# detour-ext-proc: detour's Envoy ext_proc server as a container image (Node 24, production
# dependencies only, non-root, read-only root filesystem friendly).
#
# The build context is the directory scripts/ext-proc-image-context prepares (npm pack tarballs
# of @detour/core and @detour/ext-proc installed with --omit=dev), so the build itself copies
# files and needs no registry beyond the base image:
#   npm ci && npm run build
#   docker build -f deploy/docker/ext-proc.Dockerfile --label org.opencontainers.image.version=0.1.0 \
#     -t detour-ext-proc:0.1.0 "$(scripts/ext-proc-image-context)"
# Run: mount the config (a ConfigMap in Kubernetes) as a directory at /etc/detour, its
# detour.yaml with server.listen 0.0.0.0:50051 and server.metrics 0.0.0.0:9464 (docs/containers.md).
#
# Few instructions on purpose: without BuildKit every instruction, metadata too, commits a layer
# through a container, which costs a copy of the whole image on vfs storage.
FROM node:24-bookworm-slim
LABEL org.opencontainers.image.title="detour-ext-proc" \
      org.opencontainers.image.description="detour's Envoy ext_proc server: routes each hop to the service version a request's override names" \
      org.opencontainers.image.licenses="Apache-2.0"

# Owned by root and not writable by the server's user: the server never writes its own files.
COPY app/ /app/

# UID:GID as numbers (the official image's `node` user): Kubernetes can check runAsNonRoot only
# for a numeric user.
USER 1000:1000
EXPOSE 50051 9464
# healthcheck.mjs asks DETOUR_HEALTHCHECK_URL, by default http://127.0.0.1:9464/readyz.
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 CMD ["node", "/app/healthcheck.mjs"]
# The V8 heap flags of EXT_PROC_NODE_FLAGS (packages/ext-proc/src/server/node-heap-flags.ts):
# V8 sizes its heap at start, so they go on node's command line (a test keeps them equal).
ENTRYPOINT ["node", "--max-semi-space-size=4", "--max-old-space-size=256", "/app/node_modules/@detour/ext-proc/bin/detour-ext-proc.js"]
CMD ["--config", "/etc/detour/detour.yaml"]
