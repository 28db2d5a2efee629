// The HEALTHCHECK of the detour-ext-proc image: healthy while the server's /readyz answers 200
// (gRPC bound and not draining). The image has no curl or wget; node is there anyway.
// DETOUR_HEALTHCHECK_URL names the metrics address when the config moves it from the default.
const url = process.env.DETOUR_HEALTHCHECK_URL || "http://127.0.0.1:9464/readyz";
try {
  const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
  process.exit(response.status === 200 ? 0 : 1);
} catch {
  process.exit(1);
}
