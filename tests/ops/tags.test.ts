import { describe, expect, it } from "vitest";
import { ExitCode, OpsError } from "../../ops/errors";
import {
  formatTtl,
  nextReviewTags,
  parseCommit,
  parseTtl,
  readReviewTags,
  TAG,
  toTagMap,
  verifyTags,
} from "../../ops/tags";

const HOUR = 3_600_000;
const created = new Date("2026-11-20T08:00:00.000Z");
const deployed = new Date("2026-11-24T09:30:00.000Z");

describe("parseTtl and formatTtl", () => {
  it.each([
    ["90m", 1.5 * HOUR, "90m"],
    ["72h", 72 * HOUR, "3d"],
    ["36h", 36 * HOUR, "36h"],
    ["7d", 7 * 24 * HOUR, "7d"],
    ["30d", 30 * 24 * HOUR, "30d"],
  ])("reads %s as %d ms and writes it back as %s", (raw, ms, formatted) => {
    expect(parseTtl(raw)).toBe(ms);
    expect(formatTtl(ms)).toBe(formatted);
  });

  it.each(["", "72", "h", "0h", "-1h", "1.5h", "3w", "72 h"])("rejects %j", (raw) => {
    expect(() => parseTtl(raw)).toThrowError(
      new OpsError(`invalid time to live "${raw}": expected a number and a unit m, h or d, such as 72h or 7d`, 2),
    );
  });

  it("rejects a time to live over 30 days", () => {
    expect(() => parseTtl("31d")).toThrowError(new OpsError('time to live "31d" is longer than the maximum of 30d', 2));
  });
});

describe("parseCommit", () => {
  it("accepts 7 to 40 hex characters and lower-cases them", () => {
    expect(parseCommit("ABCDEF1")).toBe("abcdef1");
    expect(parseCommit("0123456789abcdef0123456789abcdef01234567")).toBe("0123456789abcdef0123456789abcdef01234567");
  });
  it.each(["abc", "xyz1234", "0123456789abcdef0123456789abcdef012345678"])("rejects %j", (raw) => {
    expect(() => parseCommit(raw)).toThrowError(
      new OpsError(`invalid commit "${raw}": expected 7 to 40 hexadecimal characters`, 2),
    );
  });
});

describe("review tags", () => {
  const tags = { pr: 42, createdAt: created, ttlMs: 72 * HOUR, commit: "abc1234", deployedAt: deployed };

  it("writes PR number, creation time, time to live, commit and deploy time under review:* names", () => {
    expect(toTagMap(tags)).toEqual({
      "review:pr": "42",
      "review:created-at": "2026-11-20T08:00:00.000Z",
      "review:ttl": "3d",
      "review:commit": "abc1234",
      "review:deployed-at": "2026-11-24T09:30:00.000Z",
    });
  });

  it("uses names Pulumi Cloud accepts too: at most 40 characters of letters, digits and -_.:", () => {
    for (const name of Object.values(TAG)) expect(name).toMatch(/^[A-Za-z0-9_.:-]{1,40}$/);
  });

  it("reads back what it wrote", () => {
    expect(readReviewTags(toTagMap(tags))).toEqual({ ok: true, tags });
  });

  it("reports missing and broken tags instead of guessing", () => {
    expect(readReviewTags({})).toEqual({
      ok: false,
      problem: "missing tags review:pr, review:created-at, review:ttl, review:commit, review:deployed-at",
    });
    expect(readReviewTags({ ...toTagMap(tags), "review:ttl": "forever" })).toEqual({
      ok: false,
      problem: "tag review:ttl is not a time to live",
    });
    expect(readReviewTags({ ...toTagMap(tags), "review:created-at": "yesterday" })).toEqual({
      ok: false,
      problem: "tag review:created-at is not a timestamp",
    });
    expect(readReviewTags({ ...toTagMap(tags), "review:pr": "4x" })).toEqual({
      ok: false,
      problem: "tag review:pr is not a PR number",
    });
  });

  it("gives a new stack the current time as creation and deploy time", () => {
    const now = new Date("2026-11-25T12:00:00.000Z");
    expect(nextReviewTags({ pr: 42, commit: "def5678", ttlMs: 24 * HOUR, now, existing: {} })).toEqual(
      toTagMap({ pr: 42, createdAt: now, ttlMs: 24 * HOUR, commit: "def5678", deployedAt: now }),
    );
  });

  it("keeps an existing stack's creation time but moves commit, time to live and deploy time", () => {
    const now = new Date("2026-11-25T12:00:00.000Z");
    expect(nextReviewTags({ pr: 42, commit: "def5678", ttlMs: 24 * HOUR, now, existing: toTagMap(tags) })).toEqual(
      toTagMap({ pr: 42, createdAt: created, ttlMs: 24 * HOUR, commit: "def5678", deployedAt: now }),
    );
  });

  it("fails with exit code 3 and the fix when the backend dropped the tags (CLI older than 3.211.0)", () => {
    const written = toTagMap(tags);
    expect(() => verifyTags(written, written)).not.toThrow();
    try {
      verifyTags(written, { "review:pr": "42" });
      expect.unreachable();
    } catch (error) {
      expect((error as OpsError).exitCode).toBe(ExitCode.prerequisite);
      expect((error as OpsError).message).toBe(
        "the state backend did not keep the stack tags review:created-at, review:ttl, review:commit, review:deployed-at; " +
          "self-managed backends store stack tags from Pulumi CLI 3.211.0 on: upgrade the Pulumi CLI " +
          "(https://www.pulumi.com/docs/install/) and run this again",
      );
    }
  });
});
