// The name check's shortcut for printable ASCII (app/src/person-name.ts) against the grapheme-by-grapheme check it
// stands in for: the same answer for every such name, so the shortcut changes the cost and nothing else.
import { describe, expect, it } from "vitest";
import { MAX_NAME_GRAPHEMES, parsePersonName, segmentedName } from "../../app/src/person-name";
import { seededRandom } from "../support/random";

/** Printable ASCII of any length up to past the limit, often with runs of spaces at the ends and inside. */
function asciiNames(count: number): string[] {
  const next = seededRandom(20261201);
  const names: string[] = [];
  for (let n = 0; n < count; n++) {
    const length = Math.floor(next() * (MAX_NAME_GRAPHEMES + 20));
    let name = "";
    for (let i = 0; i < length; i++) {
      name += next() < 0.3 ? " " : String.fromCharCode(0x21 + Math.floor(next() * (0x7e - 0x21 + 1)));
    }
    names.push(name);
  }
  return names;
}

describe("parsePersonName on printable ASCII", () => {
  it("answers as the grapheme-by-grapheme check does, for 3,000 random names", () => {
    for (const name of asciiNames(3_000))
      expect(parsePersonName(name), JSON.stringify(name)).toEqual(segmentedName(name));
  });

  it.each([
    ["", "empty"],
    [" ", "a space"],
    ["   ", "spaces only"],
    ["~", "a tilde, the last printable"],
    ["!", "an exclamation mark, the first visible"],
    [` ${"a".repeat(MAX_NAME_GRAPHEMES)} `, "the longest name, padded"],
    [`${"a".repeat(MAX_NAME_GRAPHEMES + 1)}`, "one character too long"],
    [`a${" ".repeat(MAX_NAME_GRAPHEMES - 2)}b`, "the longest name, spaces inside"],
    [`a${" ".repeat(MAX_NAME_GRAPHEMES - 1)}b`, "one too long, spaces inside"],
    ["Ursula Le Guin", "an ordinary name"],
  ])("answers %j (%s) as the grapheme-by-grapheme check does", (name) => {
    expect(parsePersonName(name)).toEqual(segmentedName(name));
  });

  it("leaves everything else to the grapheme-by-grapheme check", () => {
    // A no-break space and a tab are whitespace that the shortcut's trim() would also remove: they must not reach it.
    expect(parsePersonName("\u00a0Ursula\u00a0")).toEqual({ ok: true, value: "Ursula" });
    expect(parsePersonName("Ursula\t")).toEqual({ ok: false, message: "name must not contain control characters" });
    expect(parsePersonName("\u3164")).toEqual({ ok: false, message: "name must not be empty" });
  });
});
