import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type App, buildApp } from "../../../app/src/app";
import type { Settings } from "../../../app/src/settings";
import { startPostgres, type TestPostgres } from "../../support/postgres";
import { FORM, migratedDatabase, subscriptionRows } from "../helpers";

describe("POST /subscriptions", () => {
  let pg: TestPostgres;
  let settings: Settings;
  let app: App;

  beforeAll(async () => {
    pg = await startPostgres();
    settings = await migratedDatabase(pg);
    app = buildApp(settings, { logLevel: "silent" });
  });
  afterAll(async () => {
    await app?.close();
    await pg?.destroy();
  });
  beforeEach(async () => {
    const client = await pg.client(settings.database.database_name);
    await client.query("TRUNCATE subscriptions");
    await client.end();
  });

  const post = (payload: string | Buffer, headers: Record<string, string> = FORM) =>
    app.inject({ method: "POST", url: "/subscriptions", headers, payload });
  const rows = () => subscriptionRows(pg, settings.database.database_name);

  it("stores one row and answers 200 with an empty body for a valid name and email", async () => {
    const response = await post("name=le%20guin&email=ursula_le_guin%40gmail.com");
    expect(response.statusCode).toBe(200);
    expect(response.body).toBe("");
    expect(await rows()).toEqual([{ email: "ursula_le_guin@gmail.com", name: "le guin" }]);
  });

  it("stores the row with a uuid id and a subscribed_at timestamp", async () => {
    await post("name=ursula&email=ursula%40example.com");
    const client = await pg.client(settings.database.database_name);
    const { rows: stored } = await client.query(
      "SELECT id::text, subscribed_at, pg_typeof(id)::text AS id_type, pg_typeof(subscribed_at)::text AS at_type FROM subscriptions",
    );
    await client.end();
    expect(stored).toHaveLength(1);
    expect(stored[0].id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(stored[0].id_type).toBe("uuid");
    expect(stored[0].at_type).toBe("timestamp with time zone");
    expect(Math.abs(Date.now() - (stored[0].subscribed_at as Date).getTime())).toBeLessThan(60_000);
  });

  it("answers 200 both times and stores one row when the same email subscribes twice", async () => {
    const first = await post("name=ursula&email=ursula%40example.com");
    const second = await post("name=someone%20else&email=ursula%40example.com");
    expect([first.statusCode, second.statusCode]).toEqual([200, 200]);
    // Same status and body: the answer doesn't reveal that the address was already subscribed.
    expect(second.body).toBe(first.body);
    expect(await rows()).toEqual([{ email: "ursula@example.com", name: "ursula" }]);
  });

  it("stores the name trimmed of surrounding whitespace", async () => {
    await post("name=%20%20ursula%20%20&email=ursula%40example.com");
    expect(await rows()).toEqual([{ email: "ursula@example.com", name: "ursula" }]);
  });

  it("accepts a name of exactly 256 graphemes, even when they take more UTF-16 code units", async () => {
    // "é" written as e + U+0301 (combining acute): 256 graphemes, 512 code units.
    const name = "e\u0301".repeat(256);
    const response = await post(new URLSearchParams({ name, email: "accents@example.com" }).toString());
    expect(response.statusCode).toBe(200);
    expect(await rows()).toEqual([{ email: "accents@example.com", name }]);
  });

  it("accepts names in any script and with emoji", async () => {
    const name = "Zoë 李 👩‍👩‍👧";
    expect((await post(new URLSearchParams({ name, email: "zoe@example.com" }).toString())).statusCode).toBe(200);
    expect(await rows()).toEqual([{ email: "zoe@example.com", name }]);
  });

  it("accepts and stores a name holding a real U+FFFD, sent as its UTF-8 bytes EF BF BD", async () => {
    const payload = Buffer.concat([
      Buffer.from("name=a"),
      Buffer.from([0xef, 0xbf, 0xbd]),
      Buffer.from("b&email=replacement%40example.com"),
    ]);
    expect((await post(payload)).statusCode).toBe(200);
    expect(await rows()).toEqual([{ email: "replacement@example.com", name: "a\uFFFDb" }]);
  });

  // Every bad input: a 400 whose JSON names the field, and nothing stored.
  const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
  const valid = { name: "ursula", email: "ursula@example.com" };
  const invalid: [string, string | Buffer, Record<string, string>, string, string][] = [
    ["the name is missing", form({ email: valid.email }), FORM, "name", "name is required"],
    ["the email is missing", form({ name: valid.name }), FORM, "email", "email is required"],
    ["both fields are missing", "", FORM, "name", "name is required"],
    ["the name is empty", form({ ...valid, name: "" }), FORM, "name", "name must not be empty"],
    ["the name is only whitespace", form({ ...valid, name: " \t " }), FORM, "name", "name must not be empty"],
    [
      "the name is 257 graphemes long",
      form({ ...valid, name: "a".repeat(257) }),
      FORM,
      "name",
      "name must be at most 256 characters",
    ],
    ...[...'/()"<>\\{}'].map((c): [string, string, Record<string, string>, string, string] => [
      `the name contains ${c}`,
      form({ ...valid, name: `ursula${c}` }),
      FORM,
      "name",
      'name must not contain any of / ( ) " < > \\ { }',
    ]),
    ["the email is empty", form({ ...valid, email: "" }), FORM, "email", "email must be a valid email address"],
    [
      "the email has no @",
      form({ ...valid, email: "ursuladomain.com" }),
      FORM,
      "email",
      "email must be a valid email address",
    ],
    [
      "the email has no subject",
      form({ ...valid, email: "@domain.com" }),
      FORM,
      "email",
      "email must be a valid email address",
    ],
    [
      "the email has two @",
      form({ ...valid, email: "a@b@domain.com" }),
      FORM,
      "email",
      "email must be a valid email address",
    ],
    [
      "a field is given twice",
      `${form(valid)}&email=other%40example.com`,
      FORM,
      "email",
      "email must be given only once",
    ],
    [
      "the body is JSON",
      JSON.stringify(valid),
      { "content-type": "application/json" },
      "content-type",
      "content-type must be application/x-www-form-urlencoded",
    ],
    [
      "the body is plain text",
      form(valid),
      { "content-type": "text/plain" },
      "content-type",
      "content-type must be application/x-www-form-urlencoded",
    ],
    [
      "the body is multipart",
      `--x\r\nContent-Disposition: form-data; name="name"\r\n\r\nursula\r\n--x--\r\n`,
      { "content-type": "multipart/form-data; boundary=x" },
      "content-type",
      "content-type must be application/x-www-form-urlencoded",
    ],
    [
      "the body is over 16 KiB",
      form({ ...valid, name: "a".repeat(16 * 1024) }),
      FORM,
      "body",
      "body must be at most 16384 bytes",
    ],
    [
      "the name's bytes are not UTF-8",
      Buffer.concat([Buffer.from("name=urs"), Buffer.from([0xff, 0xfe]), Buffer.from("&email=ursula%40example.com")]),
      FORM,
      "name",
      "name is not valid UTF-8",
    ],
    [
      "the name holds a truncated UTF-8 sequence (C3 28)",
      Buffer.concat([Buffer.from("name=urs"), Buffer.from([0xc3, 0x28]), Buffer.from("&email=ursula%40example.com")]),
      FORM,
      "name",
      "name is not valid UTF-8",
    ],
    [
      "a field's name is not UTF-8",
      Buffer.concat([Buffer.from("na"), Buffer.from([0xff]), Buffer.from("me=ursula&email=ursula%40example.com")]),
      FORM,
      "body",
      "body is not valid UTF-8",
    ],
    [
      "the name's %-escapes are not UTF-8",
      "name=%C3%28&email=ursula%40example.com",
      FORM,
      "name",
      "name is not valid UTF-8",
    ],
    ["the email's %-escape is broken", "name=ursula&email=ursula%ZZ", FORM, "email", "email is not valid UTF-8"],
  ];

  it.each(invalid)(
    "answers 400 naming the field and stores nothing when %s",
    async (_case, payload, headers, field, message) => {
      const response = await post(payload, headers);
      expect(response.statusCode).toBe(400);
      expect(response.headers["content-type"]).toMatch(/^application\/json/);
      expect(response.json()).toEqual({ error: "invalid_request", field, message });
      expect(await rows()).toEqual([]);
    },
  );

  it("answers 400 naming the content type when a body comes with no content type at all", async () => {
    const response = await app.inject({ method: "POST", url: "/subscriptions", payload: Buffer.from("name=a") });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ field: "content-type" });
  });
});
