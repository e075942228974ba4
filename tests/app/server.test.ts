// The real entry point, bundled as in the image (`node dist/server.js` from the app's folder), in its own process.
import { type ChildProcess, spawn } from "node:child_process";
import { rm } from "node:fs/promises";
import { connect } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOG_FLUSH_INTERVAL_MS } from "../../app/src/logger";
import { appProcessEnv, untilListening as untilHealthy } from "../support/app-process";
import { freePort, startPostgres, type TestPostgres } from "../support/postgres";
import { bundledAppLayout, migratedDatabase, subscriptionRows } from "./helpers";

interface Running {
  readonly child: ChildProcess;
  readonly url: string;
  readonly lines: string[];
  readonly exited: Promise<number | null>;
}

describe("the server process (dist/server.js)", () => {
  let pg: TestPostgres;
  let root = "";
  let database: string;
  beforeAll(async () => {
    [pg, root] = await Promise.all([startPostgres(), bundledAppLayout()]);
    database = (await migratedDatabase(pg)).database.database_name;
  });
  afterAll(async () => {
    await pg?.destroy();
    if (root !== "") await rm(root, { recursive: true, force: true });
  });

  async function start(env: Record<string, string> = {}): Promise<Running> {
    const port = await freePort();
    const child = spawn(process.execPath, [join(root, "dist/server.js")], {
      cwd: root,
      env: appProcessEnv(pg, database, { APP_APPLICATION__PORT: String(port), ...env }),
      stdio: ["ignore", "pipe", "pipe"],
    });
    const lines: string[] = [];
    let buffered = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      const complete = buffered.split("\n");
      buffered = complete.pop() ?? "";
      lines.push(...complete);
    });
    child.stderr?.on("data", (chunk: Buffer) => lines.push(`stderr: ${chunk}`));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    const url = `http://127.0.0.1:${port}`;
    return { child, url, lines, exited };
  }

  /** Once it answers its health check; if it never does, the error shows what it printed. */
  async function untilListening(server: Running): Promise<void> {
    await untilHealthy(server.child, server.url).catch((error: Error) => {
      throw new Error(`${error.message}:\n${server.lines.join("\n")}`);
    });
  }

  /** A connection to the server that has sent `data` (maybe nothing), and whether the server has closed it. */
  async function openConnection(server: Running, data: string) {
    const socket = connect(Number(new URL(server.url).port), "127.0.0.1");
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    socket.on("error", () => {});
    let received = "";
    socket.on("data", (chunk) => {
      received += chunk;
    });
    const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
    if (data !== "") socket.write(data);
    return { socket, closed, received: () => received };
  }

  /**
   * A POST /subscriptions that is in flight: the app has its headers and part of its body, and waits for the rest
   * (a slow upload). The database can't hold a request for long (every statement is bounded, app/src/database.ts), so
   * a slow body is what keeps one in flight for as long as a test needs. `release` sends the rest; `outcome` is the
   * HTTP status, or "connection closed" when the server cut the connection without answering.
   */
  async function stuckSubscription(server: Running, email: string) {
    const body = `name=in%20flight&email=${encodeURIComponent(email)}`;
    const head = [
      "POST /subscriptions HTTP/1.1",
      "Host: 127.0.0.1",
      "Content-Type: application/x-www-form-urlencoded",
      `Content-Length: ${body.length}`,
      "",
      "",
    ].join("\r\n");
    const connection = await openConnection(server, `${head}${body.slice(0, 5)}`);
    // Time for the server to parse the headers and hand the request to the app.
    await new Promise((r) => setTimeout(r, 300));
    const outcome = connection.closed.then(() => {
      const status = /^HTTP\/1\.1 (\d{3})/.exec(connection.received())?.[1];
      return status === undefined ? "connection closed" : Number(status);
    });
    const release = async () => {
      if (!connection.socket.destroyed) connection.socket.write(body.slice(5));
    };
    return { outcome, release };
  }

  it("logs its version in its first line, as JSON", async () => {
    const server = await start({ APP_APPLICATION__VERSION: "3f2c1ab" });
    await untilListening(server);
    server.child.kill("SIGTERM");
    expect(await server.exited).toBe(0);
    const first = JSON.parse(server.lines[0] ?? "{}");
    expect(first).toMatchObject({ level: 30, version: "3f2c1ab", msg: "newsletter 3f2c1ab starting" });
  });

  it("writes a request's line within the log flush interval on an idle server, without waiting for more", async () => {
    const server = await start();
    await untilListening(server);
    const before = server.lines.length;
    const answer = await fetch(`${server.url}/subscriptions`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "name=flush&email=flush-idle%40example.com",
    });
    expect(answer.status).toBe(200);
    const sent = Date.now();
    while (!server.lines.slice(before).some((l) => l.includes('"request completed"')) && Date.now() - sent < 5_000) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const waited = Date.now() - sent;
    server.child.kill("SIGTERM");
    expect(await server.exited).toBe(0);
    expect(server.lines.slice(before).filter((l) => l.includes('"request completed"'))).toHaveLength(1);
    // The buffer is written every LOG_FLUSH_INTERVAL_MS (250); a line held until 4 KiB gathered would never come.
    expect(waited).toBeLessThan(LOG_FLUSH_INTERVAL_MS + 1_000);
  });

  it("loses no buffered line when SIGTERM follows a burst of requests at once", async () => {
    const server = await start();
    await untilListening(server);
    const emails = Array.from({ length: 40 }, (_, i) => `burst-${i}@example.com`);
    const answers = await Promise.all(
      emails.map((email) =>
        fetch(`${server.url}/subscriptions`, {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: `name=burst&email=${encodeURIComponent(email)}`,
        }),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(emails.map(() => 200));
    server.child.kill("SIGTERM");
    expect(await server.exited).toBe(0);
    const completed = server.lines.filter((l) => l.includes('"request completed"') && l.includes('"POST"'));
    expect(completed).toHaveLength(emails.length);
    expect(server.lines.at(-1)).toContain('"stopped"');
  });

  it("on SIGTERM stops accepting connections, finishes the request in flight, and exits 0", async () => {
    const server = await start();
    await untilListening(server);
    const request = await stuckSubscription(server, "inflight@example.com");
    server.child.kill("SIGTERM");
    // The listener closes: a new connection is refused while the old request is still running.
    await new Promise((r) => setTimeout(r, 300));
    await expect(fetch(`${server.url}/health_check`)).rejects.toThrow();
    expect(server.child.exitCode).toBeNull();

    await request.release();
    expect(await request.outcome).toBe(200);
    expect(await server.exited).toBe(0);
    expect(await subscriptionRows(pg, database)).toContainEqual({ email: "inflight@example.com", name: "in flight" });
    expect(server.lines.map((l) => JSON.parse(l).msg)).toEqual(expect.arrayContaining(["shutting down", "stopped"]));
  });

  it("on SIGTERM exits 0 at once when connections are open but idle, silent or half-way through their headers", async () => {
    const server = await start();
    await untilListening(server);
    const connections = await Promise.all([
      // A load balancer's TCP check, or a pre-opened connection: nothing sent.
      openConnection(server, ""),
      // Part of a request's headers.
      openConnection(server, "POST /subscriptions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Ty"),
      // A keep-alive connection between two requests.
      openConnection(server, "GET /health_check HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
    ]);
    await new Promise((r) => setTimeout(r, 300));
    expect(connections[2]?.received()).toMatch(/^HTTP\/1\.1 200/);

    const signalled = Date.now();
    server.child.kill("SIGTERM");
    expect(await server.exited).toBe(0);
    // The grace period is 8 s (base.yaml); nothing in flight means no reason to wait for it.
    expect(Date.now() - signalled).toBeLessThan(1_500);
    await Promise.all(connections.map((c) => c.closed));
    for (const connection of connections) connection.socket.destroy();
  });

  it("lets the request in flight finish when SIGTERM comes twice, and exits 0", async () => {
    const server = await start();
    await untilListening(server);
    const request = await stuckSubscription(server, "twice@example.com");
    server.child.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 200));
    // Orchestrators resend the signal; so do people.
    server.child.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 500));
    expect(server.child.exitCode).toBeNull();
    expect(server.child.signalCode).toBeNull();

    await request.release();
    expect(await request.outcome).toBe(200);
    expect(await server.exited).toBe(0);
    expect(await subscriptionRows(pg, database)).toContainEqual({ email: "twice@example.com", name: "in flight" });
  });

  it("cuts off a request still running when the grace period is over, and exits 1", async () => {
    const server = await start({ APP_APPLICATION__SHUTDOWN_GRACE_SECONDS: "1" });
    await untilListening(server);
    const request = await stuckSubscription(server, "slow@example.com");
    const signalled = Date.now();
    server.child.kill("SIGTERM");
    try {
      expect(await server.exited).toBe(1);
      expect(Date.now() - signalled).toBeLessThan(5_000);
      expect(await request.outcome).toBe("connection closed");
    } finally {
      await request.release();
    }
  });

  it("never prints the database password when it cannot start, even inside a library's message", async () => {
    // The host is named after the password, so the DNS error that stops `listen` quotes it.
    const password = "leak-check-7f3a";
    const server = await start({ APP_DATABASE__PASSWORD: password, APP_APPLICATION__HOST: `${password}.invalid` });
    expect(await server.exited).toBe(1);
    const output = server.lines.join("\n");
    expect(output).toContain("could not start");
    expect(output).toContain("ENOTFOUND");
    expect(output).not.toContain(password);
  });

  it("fails at start, naming the variable, the key and the type, when a setting is bad", async () => {
    const server = await start({ APP_APPLICATION__PORT: "abc" });
    expect(await server.exited).toBe(1);
    expect(JSON.parse(server.lines[0] ?? "{}").msg).toBe(
      "Invalid settings:\n  - application.port (from APP_APPLICATION__PORT): expected a port number (an integer from 1 to 65535)",
    );
  });
});
