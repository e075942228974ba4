// The estimated monthly cost of one DigitalOcean stack, from the price table in infra/prices.ts. Pure, so a PR can
// show what its preview environment costs before anything is created (the stack outputs it too).
import type { DigitalOceanStackConfig } from "./config";
import {
  APP_INSTANCE_PRICES,
  DATABASE_NODE_PRICES,
  DEV_DATABASE_PRICE,
  PRICES_READ_ON,
  REGISTRY_TIER_PRICES,
} from "./prices";

export interface CostLine {
  readonly item: string;
  readonly usdPerMonth: number;
}

export interface CostEstimate {
  readonly usdPerMonth: number;
  readonly lines: readonly CostLine[];
  /** When the list prices were read; they may have changed since. */
  readonly pricesReadOn: string;
}

function price(table: Readonly<Record<string, number>>, slug: string, what: string): number {
  const value = table[slug];
  if (value === undefined) throw new Error(`No list price for ${what} "${slug}" in infra/prices.ts`);
  return value;
}

/** List price of what this stack runs, per month. Bandwidth overage and extra registry storage are not included. */
export function estimateMonthlyCost(config: DigitalOceanStackConfig): CostEstimate {
  const lines: CostLine[] = [];
  const perInstance = price(APP_INSTANCE_PRICES, config.instanceSize, "App Platform instance size");
  lines.push({
    item: `service: ${config.instanceCount} × ${config.instanceSize}`,
    usdPerMonth: perInstance * config.instanceCount,
  });
  // A PRE_DEPLOY job is billed only while it runs (seconds per deploy): negligible next to the service.
  if (config.database.kind === "dev") {
    lines.push({ item: "dev database", usdPerMonth: DEV_DATABASE_PRICE });
  } else {
    const { size, nodeCount } = config.database;
    const perNode = price(DATABASE_NODE_PRICES, size, "database size");
    lines.push({ item: `PostgreSQL cluster: ${nodeCount} × ${size}`, usdPerMonth: perNode * nodeCount });
  }
  // The registry is the account's, shared by every stack: it counts only for the stack that creates it.
  if (config.registry.create) {
    lines.push({
      item: `container registry (${config.registry.tier})`,
      usdPerMonth: price(REGISTRY_TIER_PRICES, config.registry.tier, "registry tier"),
    });
  }
  const total = lines.reduce((sum, line) => sum + line.usdPerMonth, 0);
  return Object.freeze({ usdPerMonth: total, lines: Object.freeze(lines), pricesReadOn: PRICES_READ_ON });
}
