// Baseline for POST /subscriptions without HTTP: `concurrency` callers, each inserting in a loop through the app's
// own pool (app/src/database.ts createDatabase, app/src/subscriptions.ts subscribe), as many at once as the HTTP
// benchmark keeps requests in flight. One second of warm-up, then `duration` seconds counted.
// Usage: node insert-loop.js <concurrency> <duration seconds> <email prefix>; prints {"inserted":n,"failed":n,"cpuMs":n}.
import { createDatabase } from "../../app/src/database";
import { subscribe } from "../../app/src/subscriptions";
import { baselineSettings, silent } from "./settings";

const [concurrency, duration, prefix] = [Number(process.argv[2]), Number(process.argv[3]), process.argv[4]];
const db = createDatabase(baselineSettings().database, silent);
let sent = 0;
let counting = false;
let inserted = 0;
let failed = 0;

async function caller(until: number): Promise<void> {
  while (Date.now() < until) {
    const n = ++sent;
    try {
      const address = `${prefix}-${n}@example.com`;
      await subscribe(db, { name: "bench", email: { address, canonical: address } });
      if (counting) inserted++;
    } catch {
      if (counting) failed++;
    }
  }
}

async function main(): Promise<void> {
  const warmUp = Date.now() + 1_000;
  await Promise.all(Array.from({ length: concurrency }, () => caller(warmUp)));
  counting = true;
  const cpuBefore = process.cpuUsage();
  const until = Date.now() + duration * 1_000;
  await Promise.all(Array.from({ length: concurrency }, () => caller(until)));
  const cpu = process.cpuUsage(cpuBefore);
  await db.close();
  process.stdout.write(`${JSON.stringify({ inserted, failed, cpuMs: (cpu.user + cpu.system) / 1_000 })}\n`);
}

// Not top-level await: the baselines are bundled to CommonJS, as the app is.
void main();
