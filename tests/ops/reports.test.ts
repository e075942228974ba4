import { describe, expect, it } from "vitest";
import { costText, driftReport, outputCost, outputUrl, reapReport, reviewComment } from "../../ops/reports";

describe("stack outputs in reports", () => {
  it("reads the URL and the cost the program exports", () => {
    const outputs = {
      url: { value: "https://x.ondigitalocean.app", secret: false },
      estimatedMonthlyCostUsd: { value: 84, secret: false },
    };
    expect(outputUrl(outputs)).toBe("https://x.ondigitalocean.app");
    expect(outputCost(outputs)).toEqual({ usdPerMonth: 84, lines: [] });
    expect(costText(outputCost(outputs))).toBe("$84.00 per month, DigitalOcean list prices (infra/prices.ts)");
  });

  it("shows the breakdown when the stack exports infra/cost.ts's full estimate", () => {
    const estimate = {
      usdPerMonth: 12,
      lines: [
        { item: "service: 1 × apps-s-1vcpu-0.5gb", usdPerMonth: 5 },
        { item: "dev database", usdPerMonth: 7 },
      ],
      pricesReadOn: "2026-11-25",
    };
    expect(costText(outputCost({ estimatedMonthlyCostUsd: { value: estimate, secret: false } }))).toBe(
      "$12.00 per month (service: 1 × apps-s-1vcpu-0.5gb $5.00, dev database $7.00), list prices of 2026-11-25",
    );
  });

  it("says so when the stack reports no URL or cost instead of printing undefined", () => {
    const comment = reviewComment({ pr: 3, outputs: {}, commit: "abc1234", ttlMs: 3_600_000 });
    expect(comment).toContain("**URL:** not reported by the stack");
    expect(comment).toContain("**Estimated cost:** not reported by the stack");
    expect(comment).not.toContain("undefined");
  });
});

describe("reapReport", () => {
  it("escapes table cells and shows results per stack and leftover", () => {
    const report = reapReport({
      decisions: [{ stack: "pr-4", pr: 4, action: "destroy", reason: "PR #4 is closed" }],
      results: { "pr-4": "failed: a | b\nc" },
      leftovers: [
        { resource: { kind: "database", id: "d1", name: "newsletter-pr-2-db" }, stack: "pr-2", pr: 2, reason: "gone" },
      ],
      leftoverResults: {},
      dryRun: false,
    });
    expect(report).toContain("| `pr-4` | destroy | PR #4 is closed | failed: a \\| b c |");
    expect(report).toContain("| database `newsletter-pr-2-db` | `d1` | gone | reported only |");
  });
});

describe("driftReport", () => {
  it("leads with the counts, lists resources, explains the fix and folds the output", () => {
    const report = driftReport({
      stack: "production",
      counts: { same: 4, update: 2, delete: 1 },
      resources: ["app (digitalocean:index/app:App)"],
      output: "~ app",
    });
    expect(report.split("\n").slice(0, 3)).toEqual([
      "### Drift on `production`",
      "",
      "`pulumi refresh --preview-only` found differences between the state and what runs in DigitalOcean: **2 to update, 1 to delete**.",
    ]);
    expect(report).toContain("- `app (digitalocean:index/app:App)`");
    expect(report).toContain("<details><summary>Refresh preview output</summary>");
  });
});
