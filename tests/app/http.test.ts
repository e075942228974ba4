// The HTTP layer on a real socket (app.inject can't pipeline or stall): pipelined requests behind a response that
// closes the connection, and clients that stall mid-request.
import { connect } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type App, BODY_LIMIT_BYTES, buildApp } from "../../app/src/app";
import { REQUEST_TIMEOUT_MS } from "../../app/src/http";
import { startPostgres, type TestPostgres } from "../support/postgres";
import { migratedDatabase, subscriptionRows } from "./helpers";

interface Exchange {
  /** Everything the server sent. */
  readonly received: string;
  /** How the exchange ended: the server closed the connection, or we gave up waiting. */
  readonly ending: "closed" | "timed out";
  readonly ms: number;
}

/** Opens a connection, writes `chunks` (a Buffer or string each), and reads until the server closes or `waitMs`. */
function exchange(port: number, chunks: (string | Buffer)[], waitMs: number): Promise<Exchange> {
  const started = performance.now();
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1", () => {
      for (const chunk of chunks) socket.write(chunk);
    });
    let received = "";
    const finish = (ending: Exchange["ending"]) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ received, ending, ms: performance.now() - started });
    };
    const timer = setTimeout(() => finish("timed out"), waitMs);
    socket.on("data", (data) => {
      received += data.toString("latin1");
    });
    socket.on("error", () => {});
    socket.on("close", () => finish("closed"));
  });
}

/** A POST /subscriptions as raw HTTP/1.1, with its body and any extra header lines. */
function subscriptionRequest(body: string, extraHeaders: string[] = []): string {
  return [
    "POST /subscriptions HTTP/1.1",
    "Host: 127.0.0.1",
    "Content-Type: application/x-www-form-urlencoded",
    `Content-Length: ${Buffer.byteLength(body)}`,
    ...extraHeaders,
    "",
    body,
  ].join("\r\n");
}

const statusLines = (received: string) => received.match(/^HTTP\/1\.1 \d{3}/gm) ?? [];

describe("the HTTP layer", () => {
  let pg: TestPostgres;
  let database: string;
  let app: App;
  let port: number;
  beforeAll(async () => {
    pg = await startPostgres();
    const settings = await migratedDatabase(pg);
    database = settings.database.database_name;
    app = buildApp(settings, { logLevel: "silent" });
    await app.listen({ port: 0, host: "127.0.0.1" });
    const address = app.server.address();
    port = typeof address === "object" && address ? address.port : 0;
  });
  afterAll(async () => {
    await app?.close();
    await pg?.destroy();
  });
  beforeEach(async () => {
    const client = await pg.client(database);
    await client.query("TRUNCATE subscriptions");
    await client.end();
  });
  const emails = async () => (await subscriptionRows(pg, database)).map((r) => r.email);
  const oversized = `name=${"a".repeat(BODY_LIMIT_BYTES + 100)}&email=big%40example.com`;
  const pipelined = subscriptionRequest("name=pipelined&email=pipelined%40example.com");

  describe("pipelining", () => {
    it.each<[string, (string | Buffer)[]]>([
      ["an oversized body announced by Content-Length", [subscriptionRequest(oversized), pipelined]],
      [
        "an oversized chunked body",
        [
          [
            "POST /subscriptions HTTP/1.1",
            "Host: 127.0.0.1",
            "Content-Type: application/x-www-form-urlencoded",
            "Transfer-Encoding: chunked",
            "",
            `${Buffer.byteLength(oversized).toString(16)}\r\n${oversized}\r\n0\r\n\r\n`,
          ].join("\r\n"),
          pipelined,
        ],
      ],
      [
        "a compressed body",
        [subscriptionRequest("name=gz&email=gz%40example.com", ["Content-Encoding: gzip"]), pipelined],
      ],
      [
        "a body in another charset",
        [
          subscriptionRequest("name=latin&email=latin%40example.com").replace(
            "urlencoded\r\n",
            "urlencoded; charset=iso-8859-1\r\n",
          ),
          pipelined,
        ],
      ],
    ])("never carries out a request pipelined behind %s unless it answers it", async (_case, chunks) => {
      // One write, so the server reads both requests at once, as a pipelining client sends them.
      const { received, ending } = await exchange(port, [Buffer.concat(chunks.map((c) => Buffer.from(c)))], 3_000);
      expect(statusLines(received)[0]).toMatch(/^HTTP\/1\.1 4\d\d/);
      expect(received.toLowerCase()).toContain("connection: close");
      expect(ending).toBe("closed");
      // Whatever else happened, the pipelined request was either answered or not carried out.
      await new Promise((r) => setTimeout(r, 500));
      const answered = statusLines(received).length === 2;
      expect(answered || !(await emails()).includes("pipelined@example.com")).toBe(true);
      expect(await emails()).not.toContain("big@example.com");
    });

    it("still answers pipelined requests, in order, when none closes the connection", async () => {
      const requests = [1, 2, 3].map((i) => subscriptionRequest(`name=p${i}&email=p${i}%40example.com`));
      const last = subscriptionRequest("name=p4&email=p4%40example.com", ["Connection: close"]);
      const { received } = await exchange(port, [[...requests, last].join("")], 5_000);
      expect(statusLines(received)).toEqual(["HTTP/1.1 200", "HTTP/1.1 200", "HTTP/1.1 200", "HTTP/1.1 200"]);
      expect((await emails()).sort()).toEqual(["p1@example.com", "p2@example.com", "p3@example.com", "p4@example.com"]);
    });
  });

  describe("stalled clients", () => {
    // Node checks the deadline every second (http.ts, connectionsCheckingInterval).
    const dropBy = REQUEST_TIMEOUT_MS + 2_500;

    it("drops, with 408 or a closed connection, clients that stall mid-body, mid-headers or before a byte", async () => {
      const body = "name=stalled&email=stalled%40example.com";
      const stalls = await Promise.all([
        // Headers complete, half the body, then nothing.
        exchange(port, [subscriptionRequest(body).slice(0, -10)], dropBy + 5_000),
        // Part of the headers.
        exchange(port, ["POST /subscriptions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: appl"], dropBy + 5_000),
        // A connection that never sends anything.
        exchange(port, [], dropBy + 5_000),
      ]);
      for (const stall of stalls) {
        expect(stall.ending).toBe("closed");
        expect(stall.ms).toBeLessThan(dropBy);
        expect(statusLines(stall.received).filter((s) => s !== "HTTP/1.1 408")).toEqual([]);
      }
      expect(await emails()).toEqual([]);
    }, 40_000);

    it("lets a slow client that keeps sending within the time finish its request", async () => {
      const body = "name=slow&email=slow%40example.com";
      const request = subscriptionRequest(body);
      const socket = connect(port, "127.0.0.1");
      let received = "";
      socket.on("data", (d) => {
        received += d;
      });
      for (let i = 0; i < request.length; i += 20) {
        socket.write(request.slice(i, i + 20));
        await new Promise((r) => setTimeout(r, 100));
      }
      await new Promise((r) => setTimeout(r, 500));
      socket.destroy();
      expect(statusLines(received)).toEqual(["HTTP/1.1 200"]);
    });
  });
});
