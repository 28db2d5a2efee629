import { describe, expect, it } from "vitest";
import { inArrivalOrder } from "./arrival-order.js";

describe("inArrivalOrder", () => {
  it("handles items synchronously while nothing is pending", () => {
    const seen: number[] = [];
    const push = inArrivalOrder((item: number) => void seen.push(item));
    push(1);
    push(2);
    expect(seen).toEqual([1, 2]);
  });

  it("holds later items back until a pending one settles, then resumes synchronous handling", async () => {
    const seen: string[] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const push = inArrivalOrder((item: string) => {
      if (item === "slow") return gate.then(() => void seen.push(item));
      seen.push(item);
    });
    push("slow");
    push("a");
    push("b");
    expect(seen).toEqual([]);
    release();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(seen).toEqual(["slow", "a", "b"]);
    push("c");
    expect(seen).toEqual(["slow", "a", "b", "c"]);
  });
});
