// The review tags (ops/tags.ts) at their edges: the longest time to live and the first one too long, the shortest
// and longest commit, tags that are present but empty or not quite numbers, and the whole text of every refusal.
import { describe, expect, it } from "vitest";
import { ExitCode, OpsError } from "../../ops/errors";
import {
  DEFAULT_TTL,
  formatTtl,
  nextReviewTags,
  parseCommit,
  parseTtl,
  readReviewTags,
  toTagMap,
  verifyTags,
} from "../../ops/tags";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

function usageErrorOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(OpsError);
    expect((error as OpsError).exitCode).toBe(ExitCode.usage);
    return (error as Error).message;
  }
  throw new Error("expected an OpsError");
}

const invalidTtl = (raw: string) =>
  `invalid time to live "${raw}": expected a number and a unit m, h or d, such as 72h or 7d`;

describe("parseTtl", () => {
  it.each([
    ["1m", MINUTE],
    ["43200m", 30 * DAY],
    ["720h", 30 * DAY],
    ["30d", 30 * DAY],
    [" 72h ", 72 * HOUR],
  ])("reads %j as %d ms", (raw, ms) => {
    expect(parseTtl(raw)).toBe(ms);
  });

  it("gives a review environment three days by default", () => {
    expect(parseTtl(DEFAULT_TTL)).toBe(3 * DAY);
  });

  it.each(["43201m", "721h", "31d", "999999m", "999999d"])("refuses %j as longer than 30 days", (raw) => {
    expect(usageErrorOf(() => parseTtl(raw))).toBe(`time to live "${raw}" is longer than the maximum of 30d`);
  });

  it.each(["", "72", "h", "0h", "-1h", "1.5h", "3w", "72 h", "72H", "1000000m", "072h", "72hh", "x72h"])(
    "refuses %j with the form it expects",
    (raw) => {
      expect(usageErrorOf(() => parseTtl(raw))).toBe(invalidTtl(raw));
    },
  );
});

describe("formatTtl", () => {
  it.each([
    [MINUTE, "1m"],
    [59 * MINUTE, "59m"],
    [HOUR, "1h"],
    [25 * HOUR, "25h"],
    [DAY, "1d"],
    [30 * DAY, "30d"],
    [90 * MINUTE, "90m"],
    [1.5 * MINUTE, "2m"],
  ])("writes %d ms as %s", (ms, text) => {
    expect(formatTtl(ms)).toBe(text);
  });
});

describe("parseCommit", () => {
  it("accepts 7 and 40 hexadecimal characters, trimmed and lower-cased", () => {
    expect(parseCommit(" ABCDEF0 ")).toBe("abcdef0");
    expect(parseCommit("A".repeat(40))).toBe("a".repeat(40));
  });

  it.each(["abcdef", "a".repeat(41), "abcdefg", "", "abc def0", "0x12345678"])("refuses %j", (raw) => {
    expect(usageErrorOf(() => parseCommit(raw))).toBe(
      `invalid commit "${raw}": expected 7 to 40 hexadecimal characters`,
    );
  });
});

describe("readReviewTags", () => {
  const tags = {
    pr: 42,
    createdAt: new Date("2026-11-20T08:00:00.000Z"),
    ttlMs: 72 * HOUR,
    commit: "abc1234",
    deployedAt: new Date("2026-11-24T09:30:00.000Z"),
  };
  const map = toTagMap(tags);

  it("counts an empty tag as missing, and names only the missing ones", () => {
    expect(readReviewTags({ ...map, "review:commit": "", "review:ttl": "" })).toEqual({
      ok: false,
      problem: "missing tags review:ttl, review:commit",
    });
  });

  it.each(["0", "042", "-4", "4.0", "1e2", " 42"])("refuses the PR number %j", (pr) => {
    expect(readReviewTags({ ...map, "review:pr": pr })).toEqual({
      ok: false,
      problem: "tag review:pr is not a PR number",
    });
  });

  it("refuses a deploy time that is not a timestamp", () => {
    expect(readReviewTags({ ...map, "review:deployed-at": "soon" })).toEqual({
      ok: false,
      problem: "tag review:deployed-at is not a timestamp",
    });
  });

  it("reads tags that other keys sit beside", () => {
    expect(readReviewTags({ ...map, owner: "someone" })).toEqual({ ok: true, tags });
  });
});

describe("nextReviewTags", () => {
  const now = new Date("2026-11-25T12:00:00.000Z");
  const existing = toTagMap({
    pr: 41,
    createdAt: new Date("2026-11-01T00:00:00.000Z"),
    ttlMs: DAY,
    commit: "abc1234",
    deployedAt: new Date("2026-11-02T00:00:00.000Z"),
  });

  it("starts the creation time afresh when the existing tags belong to another PR", () => {
    expect(nextReviewTags({ pr: 42, commit: "def5678", ttlMs: DAY, now, existing })).toEqual(
      toTagMap({ pr: 42, createdAt: now, ttlMs: DAY, commit: "def5678", deployedAt: now }),
    );
  });

  it("starts the creation time afresh when the existing tags are broken", () => {
    const broken = { ...existing, "review:pr": "42", "review:ttl": "forever" };
    expect(nextReviewTags({ pr: 42, commit: "def5678", ttlMs: DAY, now, existing: broken })).toEqual(
      toTagMap({ pr: 42, createdAt: now, ttlMs: DAY, commit: "def5678", deployedAt: now }),
    );
  });
});

describe("verifyTags", () => {
  it("names only the tags whose value the backend changed or dropped", () => {
    const written = { "review:pr": "42", "review:commit": "abc1234", "review:ttl": "3d" };
    try {
      verifyTags(written, { "review:pr": "42", "review:commit": "0000000", extra: "kept" });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(OpsError);
      expect((error as OpsError).message).toBe(
        "the state backend did not keep the stack tags review:commit, review:ttl; self-managed backends store " +
          "stack tags from Pulumi CLI 3.211.0 on: upgrade the Pulumi CLI (https://www.pulumi.com/docs/install/) " +
          "and run this again",
      );
    }
  });

  it("accepts a backend that kept every tag, and others besides", () => {
    expect(() => verifyTags({ a: "1" }, { a: "1", b: "2" })).not.toThrow();
  });
});
