import { describe, expect, it } from "vitest";
import { decideReap, type StackState } from "../../ops/reaper";
import { toTagMap } from "../../ops/tags";

const HOUR = 3_600_000;
const now = new Date("2026-11-25T12:00:00.000Z");
const hoursAgo = (h: number) => new Date(now.getTime() - h * HOUR);

function prStack(pr: number, deployedHoursAgo: number, ttlHours = 72, extra: Partial<StackState> = {}): StackState {
  return {
    name: `pr-${pr}`,
    tags: toTagMap({
      pr,
      createdAt: hoursAgo(deployedHoursAgo + 10),
      ttlMs: ttlHours * HOUR,
      commit: "abc1234",
      deployedAt: hoursAgo(deployedHoursAgo),
    }),
    lastUpdate: hoursAgo(deployedHoursAgo).toISOString(),
    ...extra,
  };
}

const decide = (stacks: StackState[], open: number[]) =>
  decideReap({ stacks, openPrs: new Set(open), now, defaultTtlMs: 72 * HOUR });

describe("decideReap", () => {
  it("destroys the stack of a closed PR, whatever its time to live", () => {
    expect(decide([prStack(7, 1)], [])).toEqual([
      { stack: "pr-7", pr: 7, action: "destroy", reason: "PR #7 is closed" },
    ]);
  });

  it("destroys an open PR's stack whose time to live since the last deploy has run out", () => {
    expect(decide([prStack(8, 73)], [8])).toEqual([
      {
        stack: "pr-8",
        pr: 8,
        action: "destroy",
        reason: "no deploy for its time to live of 3d (expired 2026-11-25T11:00:00.000Z)",
      },
    ]);
  });

  it("destroys exactly at expiry and keeps one millisecond before", () => {
    const at = prStack(9, 24, 24);
    expect(decide([at], [9])[0]?.action).toBe("destroy");
    const before = {
      ...at,
      tags: { ...at.tags, "review:deployed-at": new Date(hoursAgo(24).getTime() + 1).toISOString() },
    };
    expect(decide([before], [9])[0]?.action).toBe("keep");
  });

  it("keeps an open PR's stack within its time to live and says when it expires", () => {
    expect(decide([prStack(10, 2)], [10])).toEqual([
      {
        stack: "pr-10",
        pr: 10,
        action: "keep",
        reason: "PR #10 is open; expires 2026-11-28T10:00:00.000Z (time to live 3d)",
      },
    ]);
  });

  it("never destroys production, even with PR tags, an old update and no open PRs", () => {
    const production = { ...prStack(11, 1000), name: "production" };
    expect(decide([production], [])).toEqual([
      { stack: "production", action: "keep", reason: "production is never reaped" },
    ]);
  });

  it.each(["local", "staging", "pr-12-old", "pr-0", "review-12"])("never destroys the non-PR stack %s", (name) => {
    expect(decide([{ ...prStack(12, 1000), name }], [])).toEqual([
      { stack: name, action: "keep", reason: "not a per-PR stack" },
    ]);
  });

  it("leaves a stack alone while an update is running, even if its PR is closed", () => {
    expect(decide([prStack(13, 1000, 72, { updateInProgress: true })], [])).toEqual([
      { stack: "pr-13", pr: 13, action: "keep", reason: "an update is running; the next run decides" },
    ]);
  });

  it("falls back to the last update and the default time to live when tags are missing", () => {
    const untagged = (h: number): StackState => ({ name: "pr-14", tags: {}, lastUpdate: hoursAgo(h).toISOString() });
    expect(decide([untagged(80)], [14])[0]).toEqual({
      stack: "pr-14",
      pr: 14,
      action: "destroy",
      reason:
        "review tags unusable (missing tags review:pr, review:created-at, review:ttl, review:commit, review:deployed-at); no update for the default time to live of 3d",
    });
    expect(decide([untagged(5)], [14])[0]?.action).toBe("keep");
  });

  it("distrusts tags that name another PR than the stack", () => {
    const wrong = {
      ...prStack(15, 1),
      tags: prStack(16, 1).tags,
      lastUpdate: hoursAgo(100).toISOString(),
      name: "pr-15",
    };
    expect(decide([wrong], [15])[0]).toMatchObject({
      action: "destroy",
      reason: expect.stringContaining("tag says PR #16, name says #15"),
    });
  });

  it("keeps an open PR's stack that has neither usable tags nor a last update, and asks for a look", () => {
    expect(decide([{ name: "pr-17" }], [17])).toEqual([
      {
        stack: "pr-17",
        pr: 17,
        action: "keep",
        reason:
          "PR #17 is open, but its review tags are unusable (tags unreadable) and it has no last update: check it",
      },
    ]);
  });

  it("decides every stack of a mixed backend, other stacks first and PR stacks by number", () => {
    const decisions = decide(
      [prStack(30, 1), { name: "production" }, prStack(4, 100), prStack(21, 1), { name: "local" }],
      [4, 21],
    );
    expect(decisions.map((d) => [d.stack, d.action])).toEqual([
      ["local", "keep"],
      ["production", "keep"],
      ["pr-4", "destroy"],
      ["pr-21", "keep"],
      ["pr-30", "destroy"],
    ]);
  });
});
