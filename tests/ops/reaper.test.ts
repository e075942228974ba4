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
    expect(decide([wrong], [15])[0]).toEqual({
      stack: "pr-15",
      pr: 15,
      action: "destroy",
      reason: "review tags unusable (tag says PR #16, name says #15); no update for the default time to live of 3d",
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

  it("falls back to the last update when the deploy time tag is not a timestamp", () => {
    const broken = prStack(18, 1, 72, { lastUpdate: hoursAgo(2).toISOString() });
    const stack = { ...broken, tags: { ...broken.tags, "review:deployed-at": "yesterday" } };
    expect(decide([stack], [18])).toEqual([
      {
        stack: "pr-18",
        pr: 18,
        action: "keep",
        reason:
          "PR #18 is open; review tags unusable (tag review:deployed-at is not a timestamp); " +
          "expires 2026-11-28T10:00:00.000Z (default 3d)",
      },
    ]);
  });

  it("decides the other stacks when one deploy time tag is the last instant a Date can hold", () => {
    // Parses, but adding the time to live leaves the range of a Date: toISOString() would throw a RangeError.
    const edge = prStack(19, 100);
    const stack = { ...edge, tags: { ...edge.tags, "review:deployed-at": "+275760-09-13T00:00:00.000Z" } };
    expect(decide([stack, prStack(20, 1)], [19, 20])).toEqual([
      {
        stack: "pr-19",
        pr: 19,
        action: "destroy",
        reason:
          "review tags unusable (tag review:deployed-at is in the future); no update for the default time to live of 3d",
      },
      {
        stack: "pr-20",
        pr: 20,
        action: "keep",
        reason: "PR #20 is open; expires 2026-11-28T11:00:00.000Z (time to live 3d)",
      },
    ]);
  });

  it("does not let a deploy time in the future keep a stack that nobody deploys", () => {
    const future = prStack(22, 1, 72, { lastUpdate: hoursAgo(80).toISOString() });
    const stack = { ...future, tags: { ...future.tags, "review:deployed-at": "3026-01-01T00:00:00.000Z" } };
    expect(decide([stack], [22])[0]).toEqual({
      stack: "pr-22",
      pr: 22,
      action: "destroy",
      reason:
        "review tags unusable (tag review:deployed-at is in the future); no update for the default time to live of 3d",
    });
  });

  it("counts from a deploy made this very millisecond", () => {
    expect(decide([prStack(23, 0, 1)], [23])[0]).toEqual({
      stack: "pr-23",
      pr: 23,
      action: "keep",
      reason: "PR #23 is open; expires 2026-11-25T13:00:00.000Z (time to live 1h)",
    });
  });

  it("asks for a look when the last update is past the range of a Date, instead of crashing", () => {
    expect(decide([{ name: "pr-24", tags: {}, lastUpdate: "+275760-09-13T00:00:00.000Z" }], [24])).toEqual([
      {
        stack: "pr-24",
        pr: 24,
        action: "keep",
        reason:
          "PR #24 is open, but its review tags are unusable (missing tags review:pr, review:created-at, review:ttl, " +
          "review:commit, review:deployed-at) and it has no last update: check it",
      },
    ]);
  });

  it("falls back at exactly the default time to live, and keeps one millisecond before", () => {
    const untagged = (ms: number): StackState => ({
      name: "pr-25",
      tags: {},
      lastUpdate: new Date(now.getTime() - ms).toISOString(),
    });
    expect(decide([untagged(72 * HOUR)], [25])[0]?.action).toBe("destroy");
    expect(decide([untagged(72 * HOUR - 1)], [25])[0]?.action).toBe("keep");
  });

  it("keeps an open PR's stack whose last update is unreadable, and asks for a look", () => {
    expect(decide([{ name: "pr-26", lastUpdate: "not a time" }], [26])[0]?.reason).toBe(
      "PR #26 is open, but its review tags are unusable (tags unreadable) and it has no last update: check it",
    );
  });

  it("orders stacks that are not PR stacks by name", () => {
    expect(decide([{ name: "staging" }, { name: "local" }, { name: "production" }], []).map((d) => d.stack)).toEqual([
      "local",
      "production",
      "staging",
    ]);
  });
});
