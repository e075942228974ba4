// `npm run bench:app`: load on the built server (app/dist/server.js, as the image runs it) backed by a real
// Postgres on 127.0.0.1, with autocannon. Prints requests/s and p99 latency for GET /health_check and for
// POST /subscriptions (a unique email per request), then checks that every acknowledged subscription is stored.
// Figures, not assertions: they depend on the machine.
//
// Options: --duration <seconds> (default 10), --connections <n> (default 50).
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
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

async function untilListening(server: ChildProcess, url: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (server.exitCode !== null) throw new Error(`the server exited with ${server.exitCode}`);
    const up = await fetch(`${url}/health_check`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("the server did not start");
}

async function main(): Promise<void> {
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
    const env = {
      PATH: process.env.PATH,
      APP_ENVIRONMENT: "local",
      APP_APPLICATION__PORT: String(port),
      APP_APPLICATION__VERSION: "bench",
      APP_DATABASE__HOST: pg.host,
      APP_DATABASE__PORT: String(pg.port),
      APP_DATABASE__USERNAME: pg.user,
      APP_DATABASE__PASSWORD: pg.password,
      APP_DATABASE__DATABASE_NAME: "bench",
    };
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
    report("GET /health_check", await autocannon({ url: `${url}/health_check`, connections, duration }));

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
    const ok = stored === acknowledged.size;
    console.log(
      `\n${acknowledged.size} subscriptions acknowledged with 200, ${stored} of them in the table: ` +
        (ok ? "every acknowledged subscription is stored." : "MISSING ROWS."),
    );
    if (!ok) process.exitCode = 1;
  } finally {
    server?.kill("SIGTERM");
    await pg.destroy();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
