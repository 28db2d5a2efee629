import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isValidService, isValidVersion, SERVICE_NAME_PATTERN, SERVICE_PATTERN, VERSION_PATTERN, WORKLOAD_PATTERN } from "./override-grammar.js";

// The exported patterns (for schemas) and the character tables (for the reader) state the same
// grammar twice; these properties keep them in step.
const near = fc.oneof(
  fc.string({ unit: fc.constantFrom(..."aZ09-._*/ é"), maxLength: 70 }),
  fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,64}$/),
  fc.string({ maxLength: 8 }),
);

describe("grammar patterns agree with the reader", () => {
  it("service and version", () => {
    fc.assert(
      fc.property(near, (text) => {
        expect(new RegExp(SERVICE_PATTERN).test(text)).toBe(isValidService(text));
        expect(new RegExp(VERSION_PATTERN).test(text)).toBe(isValidVersion(text));
        expect(new RegExp(SERVICE_NAME_PATTERN).test(text)).toBe(text !== "*" && isValidService(text) && text === text.toLowerCase());
      }),
      { seed: 7, numRuns: 2000 },
    );
  });

  it("workload keys are service-name/version", () => {
    fc.assert(
      fc.property(near, near, (service, version) => {
        const valid = new RegExp(SERVICE_NAME_PATTERN).test(service) && isValidVersion(version);
        expect(new RegExp(WORKLOAD_PATTERN).test(`${service}/${version}`)).toBe(valid);
      }),
      { seed: 8, numRuns: 1000 },
    );
  });

  it("length bounds", () => {
    expect(isValidService("a".repeat(63))).toBe(true);
    expect(new RegExp(SERVICE_PATTERN).test("a".repeat(64))).toBe(false);
    expect(new RegExp(VERSION_PATTERN).test("v".repeat(63))).toBe(true);
    expect(isValidVersion("v".repeat(64))).toBe(false);
  });
});
