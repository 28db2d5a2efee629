/*
 * Header values are handled as bytes, one char per byte (latin1), not decoded as UTF-8: Envoy
 * passes on bytes that need not be UTF-8 (obs-text), and a value written back (the rebuilt
 * baggage header keeps every other member) must be the same bytes, not U+FFFD replacements (seen
 * in test/reliability/hostile-input.test.ts). The override grammar is ASCII, so no decision
 * changes, and limits.maxValueBytes counts bytes.
 */

const utf8Encoder = new TextEncoder();

/** A header value's bytes as text, one char per byte. */
export function textOfBytes(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
}

/** The bytes of a header value read by textOfBytes. */
export function bytesOfText(text: string): Uint8Array {
  // Values come from request bytes or ASCII; anything wider (never expected) goes out as UTF-8.
  return /[^\x00-\xff]/.test(text) ? utf8Encoder.encode(text) : Buffer.from(text, "latin1");
}
