// DigitalOcean list prices in USD per month, as read on PRICES_READ_ON, for the cost estimate each stack outputs
// (infra/cost.ts). Only sizes whose price two sources agree on are listed, and the config accepts only these sizes,
// so every stack's estimate is complete. Update this file (and the date) when DigitalOcean changes a price; check
// https://www.digitalocean.com/pricing before relying on a figure for a budget.
//
// Sources (read through the team's search tool on PRICES_READ_ON):
// - Container Registry: "Container Registry Pricing",
//   https://docs.digitalocean.com/products/container-registry/details/pricing/ (Starter $0, Basic $5, Professional
//   $20 per month).
// - App Platform shared-CPU containers: $5 / $12 / $25 / $50 for apps-s-1vcpu-0.5gb / -1gb / -2gb / apps-s-2vcpu-4gb,
//   as transcribed from https://www.digitalocean.com/pricing in a public price table (github search, "Precios
//   oficiales de DigitalOcean ... Actualizado 2026-08") and matching the legacy basic-xxs/xs/s/m prices listed at
//   https://webkit.ainsley.dev/infrastructure/providers/digital-ocean.html. Apps are billed by the second, pro rata
//   (DigitalOcean community answer, "How are applications on App Platform billed?").
// - App Platform dev database: $7 per month ("Recreating the DigitalOcean App Platform", dev.to/cubiclesocial; the
//   same figure in DigitalOcean's App Platform skill notes on dev databases).
// - Managed PostgreSQL: $15 per node for db-s-1vcpu-1gb (1 node $15, 3 nodes $45: gist.github.com/fakhrullah
//   "managed db" comparison), and $30 / $60 / $120 for db-s-1vcpu-2gb / db-s-2vcpu-4gb / db-s-4vcpu-8gb in the same
//   public table as above. A standby node costs as much as the primary, so the price is per node.
//
// Dedicated-CPU App Platform sizes are left out on purpose: the sources disagree on them.

export const PRICES_READ_ON = "2026-11-25";

/** App Platform container, per instance per month. */
export const APP_INSTANCE_PRICES: Readonly<Record<string, number>> = Object.freeze({
  "apps-s-1vcpu-0.5gb": 5,
  "apps-s-1vcpu-1gb": 12,
  "apps-s-1vcpu-2gb": 25,
  "apps-s-2vcpu-4gb": 50,
});

/** App Platform dev database (PostgreSQL), per month. */
export const DEV_DATABASE_PRICE = 7;

/** Managed PostgreSQL, per node (primary or standby) per month. */
export const DATABASE_NODE_PRICES: Readonly<Record<string, number>> = Object.freeze({
  "db-s-1vcpu-1gb": 15,
  "db-s-1vcpu-2gb": 30,
  "db-s-2vcpu-4gb": 60,
  "db-s-4vcpu-8gb": 120,
});

/** DigitalOcean Container Registry subscription, per month. */
export const REGISTRY_TIER_PRICES: Readonly<Record<string, number>> = Object.freeze({
  starter: 0,
  basic: 5,
  professional: 20,
});
