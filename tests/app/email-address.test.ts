// The address check's shortcut (app/src/email-address.ts, isPlainAddress) against validator's isEmail, which it skips:
// every address the shortcut accepts, isEmail accepts too, so the shortcut changes the cost and nothing else.
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { isPlainAddress, parseEmailAddress } from "../../app/src/email-address";
import { seededRandom } from "../support/random";

// validator is the app's dependency (app/package.json), not the root's: load the very copy the app uses.
const isEmail = createRequire(new URL("../../app/package.json", import.meta.url))("validator/lib/isEmail.js") as (
  address: string,
) => boolean;

const next = seededRandom(20261202);
const pick = (alphabet: string, length: number) =>
  Array.from({ length }, () => alphabet[Math.floor(next() * alphabet.length)]).join("");
const between = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
const LOWER = "abcdefghijklmnopqrstuvwxyz";
const ATOM = `${LOWER}ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+-`;
const LDH = `${LOWER}0123456789`;

/** An address of the shortcut's shape, its lengths often at their limits. */
function plainAddress(): string {
  const atoms = Array.from({ length: between(1, 4) }, () => pick(ATOM, between(1, next() < 0.2 ? 20 : 6)));
  const local = atoms
    .join(".")
    .slice(0, next() < 0.2 ? 64 : 30)
    .replace(/\.+$/, "");
  const labels = Array.from({ length: between(1, 3) }, () => {
    const length = next() < 0.2 ? 63 : between(1, 12);
    if (length === 1) return pick(LDH, 1);
    return pick(LDH, 1) + pick(`${LDH}-`, length - 2) + pick(LDH, 1);
  });
  const address = `${local}@${labels.join(".")}.${pick(LOWER, next() < 0.1 ? 63 : between(2, 6))}`;
  return address.length <= 254 ? address : plainAddress();
}

describe("isPlainAddress, the shortcut past isEmail", () => {
  it("accepts only addresses that isEmail accepts, for 5,000 random addresses of its shape", () => {
    for (let n = 0; n < 5_000; n++) {
      const address = plainAddress();
      expect(isPlainAddress(address), address).toBe(true);
      expect(isEmail(address), address).toBe(true);
    }
  });

  it("accepts an address at each of its limits: 64 characters before the @, labels of 63, 254 in all", () => {
    const local = "a".repeat(64);
    const label = "b".repeat(63);
    expect(isPlainAddress(`${local}@example.com`)).toBe(true);
    const longest = `${local}@${label}.${label}.${"c".repeat(254 - 65 - 2 * 64 - 4)}.com`;
    expect(longest).toHaveLength(254);
    expect(isPlainAddress(longest)).toBe(true);
    expect(isEmail(longest)).toBe(true);
  });

  it.each([
    ["a..b@example.com", "an empty atom"],
    [".a@example.com", "a leading dot"],
    ["a.@example.com", "a trailing dot"],
    ["a@-example.com", "a label starting with a hyphen"],
    ["a@example-.com", "a label ending with a hyphen"],
    ["a@example.c", "a one-letter top-level label"],
    ["a@example.123", "a numeric top-level label"],
    ["a@example", "no top-level label"],
    [`${"a".repeat(65)}@example.com`, "65 characters before the @"],
    [`a@${"b".repeat(64)}.com`, "a label of 64 characters"],
    [`a@${"b.".repeat(125)}com`, "255 characters in all"],
    ['"a b"@example.com', "a quoted local part"],
    ["ä@example.com", "a local part beyond ASCII"],
    ["a@xn--bcher-kva.xn--p1ai", "a punycode top-level label"],
  ])("leaves %j (%s) to isEmail", (address) => {
    expect(isPlainAddress(address)).toBe(false);
  });

  it("changes no answer of parseEmailAddress where isEmail has the last word", () => {
    expect(parseEmailAddress(`${"a".repeat(64)}@example.com`).ok).toBe(true);
    expect(parseEmailAddress(`${"a".repeat(65)}@example.com`).ok).toBe(false);
    expect(parseEmailAddress("a@xn--bcher-kva.xn--p1ai").ok).toBe(true);
    expect(parseEmailAddress("a..b@example.com").ok).toBe(false);
  });
});
