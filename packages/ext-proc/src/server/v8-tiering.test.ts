import { describe, expect, it } from "vitest";
import { commandLineSetsMaglev } from "./v8-tiering.js";

describe("commandLineSetsMaglev", () => {
  it("sees --maglev and --no-maglev, in either spelling, and nothing else", () => {
    expect(commandLineSetsMaglev(["--maglev"])).toBe(true);
    expect(commandLineSetsMaglev(["--max-semi-space-size=4", "--no-maglev"])).toBe(true);
    expect(commandLineSetsMaglev(["--no_maglev"])).toBe(true);
    expect(commandLineSetsMaglev(["--maglev-inlining", "--max-old-space-size=256"])).toBe(false);
    expect(commandLineSetsMaglev([])).toBe(false);
  });
});
