import { describe, expect, it } from "vitest";
import { type DigitalOceanStackConfig, parseStackConfig } from "../../infra/config";
import { estimateMonthlyCost } from "../../infra/cost";
import { PRICES_READ_ON } from "../../infra/prices";

const doConfig = (values: Record<string, string>) =>
  parseStackConfig({
    project: "newsletter",
    stack: "pr-1",
    values: { appVersion: "abc", ...values },
  }) as DigitalOceanStackConfig;

describe("estimateMonthlyCost", () => {
  it("prices a PR preview: the smallest instance and a dev database", () => {
    expect(estimateMonthlyCost(doConfig({}))).toEqual({
      usdPerMonth: 12,
      lines: [
        { item: "service: 1 × apps-s-1vcpu-0.5gb", usdPerMonth: 5 },
        { item: "dev database", usdPerMonth: 7 },
      ],
      pricesReadOn: PRICES_READ_ON,
    });
  });

  it("prices every instance and every cluster node, and the registry only where the stack creates it", () => {
    const estimate = estimateMonthlyCost(
      doConfig({
        instanceSize: "apps-s-1vcpu-2gb",
        instanceCount: "3",
        database: "cluster",
        databaseSize: "db-s-2vcpu-4gb",
        databaseNodeCount: "3",
        createRegistry: "true",
        registryTier: "professional",
      }),
    );
    expect(estimate.lines).toEqual([
      { item: "service: 3 × apps-s-1vcpu-2gb", usdPerMonth: 75 },
      { item: "PostgreSQL cluster: 3 × db-s-2vcpu-4gb", usdPerMonth: 180 },
      { item: "container registry (professional)", usdPerMonth: 20 },
    ]);
    expect(estimate.usdPerMonth).toBe(275);
  });
});
