import { describe, expect, it } from "vitest";
import { parseStackIdentity, physicalName, sanitizeName, stackIdentity } from "../../infra/naming.js";

describe("physicalName", () => {
  it.each([
    [{ project: "newsletter", stack: "pr-42", maxLength: 32 }, "newsletter-pr-42"],
    [{ project: "newsletter", stack: "pr-42", suffix: "db", maxLength: 63 }, "newsletter-pr-42-db"],
    [{ project: "newsletter", stack: "production", suffix: "", maxLength: 32 }, "newsletter-production"],
    [
      { project: "Newsletter", stack: "Feature_Branch.1", suffix: "DB", maxLength: 63 },
      "newsletter-feature-branch-1-db",
    ],
    [{ project: "newsletter", stack: "--odd--stack--", maxLength: 63 }, "newsletter-odd-stack"],
  ])("prefixes and sanitises %o as %s", (input, expected) => {
    expect(physicalName(input)).toEqual(expected);
  });

  it("cuts a long name to the limit and ends it with a hash of the full name", () => {
    const name = physicalName({ project: "newsletter", stack: "pr-123456789012345678901234", maxLength: 32 });
    expect(name).toHaveLength(32);
    expect(name).toMatch(/^newsletter-pr-12345678901-[0-9a-f]{6}$/);
  });

  it("keeps two long names that share a prefix apart", () => {
    const a = physicalName({ project: "newsletter", stack: "pr-1234567890123456789012341", maxLength: 32 });
    const b = physicalName({ project: "newsletter", stack: "pr-1234567890123456789012342", maxLength: 32 });
    expect(a).not.toEqual(b);
  });

  it("never ends a cut name on a hyphen before the hash", () => {
    // The cut lands right after "newsletter-" here; the hyphen is dropped rather than doubled.
    const name = physicalName({ project: "newsletter", stack: "abcdefghijklmnopqrstuvwxyz", maxLength: 18 });
    expect(name).toMatch(/^newsletter-[0-9a-f]{6}$/);
  });

  it("only ever uses lower-case letters, digits and single inner hyphens, within the limit", () => {
    for (const stack of ["pr-1", "PR 99!", "ünïcode-stack", "a".repeat(100), "x_y.z"]) {
      for (const maxLength of [8, 32, 63]) {
        const name = physicalName({ project: "newsletter", stack, suffix: "db", maxLength });
        expect(name.length).toBeLessThanOrEqual(maxLength);
        expect(name).toMatch(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/);
        expect(name).not.toContain("--");
      }
    }
  });

  it("rejects a limit too small to hold a hash", () => {
    expect(() => physicalName({ project: "newsletter", stack: "pr-1", maxLength: 5 })).toThrow(
      "physicalName: maxLength must be an integer of at least 8, got 5",
    );
  });
});

describe("sanitizeName", () => {
  it("lower-cases and replaces runs of other characters with one hyphen", () => {
    expect(sanitizeName("My App__Name..v2")).toEqual("my-app-name-v2");
  });
});

describe("stackIdentity", () => {
  it("names project and stack in one DigitalOcean tag, and reads it back", () => {
    expect(stackIdentity("newsletter", "pr-42")).toBe("pulumi:newsletter:pr-42");
    expect(stackIdentity("News Letter", "Production")).toBe("pulumi:news-letter:production");
    expect(parseStackIdentity("pulumi:newsletter:pr-42")).toEqual({ project: "newsletter", stack: "pr-42" });
    // Tag names take only letters, digits, colons, dashes and underscores.
    expect(stackIdentity("newsletter", "pr-42")).toMatch(/^[a-zA-Z0-9_:-]{1,255}$/);
  });

  it("reads nothing else as an identity", () => {
    for (const text of [
      "newsletter-pr-42",
      "pulumi:newsletter",
      "pulumi:newsletter:pr-42:x",
      "pulumi::pr-42",
      "production",
    ])
      expect(parseStackIdentity(text), text).toBeUndefined();
    expect(() => stackIdentity("newsletter", "--")).toThrow(/not usable/);
  });
});
