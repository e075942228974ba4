import { brotliCompressSync, deflateSync, gzipSync } from "node:zlib";
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
  /** The answer is a 400 naming `field` and saying `message`, and nothing was stored. */
  const expectRefused = async (response: Awaited<ReturnType<typeof post>>, field: string, message: string) => {
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ error: "invalid_request", field, message });
    expect(await rows()).toEqual([]);
  };

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
    ["the name is only whitespace", form({ ...valid, name: " \u3000 " }), FORM, "name", "name must not be empty"],
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

  it("answers 415 naming the content type when a body comes with no content type at all", async () => {
    const response = await app.inject({ method: "POST", url: "/subscriptions", payload: Buffer.from("name=a") });
    expect(response.statusCode).toBe(415);
    expect(response.json()).toMatchObject({ field: "content-type" });
  });

  describe("control characters", () => {
    // Raw bytes or %-escapes: C0 controls, DEL, C1 controls. None is ever stored, none is ever a 500.
    const bytes = (...parts: (string | number[])[]) =>
      Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p) : Buffer.from(p))));
    const email = "email=ursula%40example.com";
    const cases: [string, string | Buffer, string][] = [
      ["a raw NUL in the name", bytes("name=ur", [0x00], `sula&${email}`), "name"],
      ["a NUL as %00 in the name", `name=ur%00sula&${email}`, "name"],
      ["a NUL at the end of the name", `name=ursula%00&${email}`, "name"],
      ["CR LF in the name", `name=ursula%0D%0ABcc%3A%20x&${email}`, "name"],
      ["a tab inside the name", `name=ur%09sula&${email}`, "name"],
      ["DEL in the name", `name=ursula%7F&${email}`, "name"],
      ["a raw DEL in the name", bytes("name=ursula", [0x7f], `&${email}`), "name"],
      ["ESC in the name", `name=%1B%5B31mursula&${email}`, "name"],
      ["a C1 control (NEL, C2 85) in the name", `name=ursula%C2%85&${email}`, "name"],
      [
        "CR LF inside a quoted local part",
        `name=ursula&email=${encodeURIComponent('"a\r\nBcc: victim@evil.example"@example.com')}`,
        "email",
      ],
      ["a NUL in the email", `name=ursula&email=ursula%00%40example.com`, "email"],
      ["a raw NUL in the email", bytes("name=ursula&email=ursula", [0x00], "%40example.com"), "email"],
      ["a LF at the end of the email", `name=ursula&email=ursula%40example.com%0A`, "email"],
      ["a NUL in a field the service ignores", `name=ursula&${email}&extra=%00`, "extra"],
    ];
    it.each(cases)("answers 400 naming the field and stores nothing for %s", async (_case, payload, field) => {
      await expectRefused(await post(payload), field, `${field} must not contain control characters`);
    });
  });

  describe("one address, one subscription", () => {
    const subscribeAs = (email: string, name = "ursula") => post(form({ name, email }));

    it.each<[string, string[]]>([
      ["the domain in any case (RFC 5321 §2.4)", ["x@example.com", "x@EXAMPLE.COM", "x@Example.Com"]],
      [
        "the local part in any case",
        ["Ursula.Le.Guin@example.com", "ursula.le.guin@example.com", "URSULA.LE.GUIN@example.com"],
      ],
      [
        "a local part composed or decomposed (NFC)",
        ["zo\u00eb@example.com", "zoe\u0308@example.com", "ZOE\u0308@example.com"],
      ],
      [
        "an internationalised domain and its punycode",
        ["x@b\u00fccher.example", "x@xn--bcher-kva.example", "x@B\u00dcCHER.example", "x@XN--BCHER-KVA.example"],
      ],
      ["a domain in fullwidth letters", ["x@example.com", "x@\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.com"]],
      ["quotes that change nothing", ["ursula@example.com", '"ursula"@example.com', '"ur\\sula"@example.com']],
    ])("stores one row for %s, keeping the address first typed", async (_case, variants) => {
      for (const email of variants) expect((await subscribeAs(email)).statusCode).toBe(200);
      expect(await rows()).toEqual([{ email: variants[0], name: "ursula" }]);
    });

    it.each<[string, string[]]>([
      ["sub-addresses", ["ursula@example.com", "ursula+news@example.com"]],
      ["dots in the local part, even at a provider that ignores them", ["ursula@gmail.com", "u.rsula@gmail.com"]],
      ["look-alike letters (fullwidth in the local part)", ["a@example.com", "\uff41@example.com"]],
      ["different domains", ["x@example.com", "x@example.org"]],
    ])("keeps %s apart", async (_case, variants) => {
      for (const email of variants) expect((await subscribeAs(email)).statusCode).toBe(200);
      expect((await rows()).map((r) => r.email).sort()).toEqual([...variants].sort());
    });

    it("stores one row when many spellings of one address race, and answers every request the same", async () => {
      const spellings = Array.from({ length: 40 }, (_, i) => {
        const local = i % 2 === 0 ? "race" : "RACE";
        const domain = ["example.com", "EXAMPLE.COM", "Example.Com", "exAMple.com"][i % 4];
        return `${local}@${domain}`;
      });
      const responses = await Promise.all(spellings.map((email) => subscribeAs(email)));
      expect(responses.map((r) => r.statusCode)).toEqual(spellings.map(() => 200));
      expect(new Set(responses.map((r) => r.body))).toEqual(new Set([""]));
      expect(await rows()).toHaveLength(1);
    });

    it.each([
      ["a zero-width space", "urs\u200bula@example.com"],
      ["a bidi override", "\u202eursula@example.com"],
      ["a no-break space", "ursula\u00a0@example.com"],
      ["a space inside quotes", '"ursula le guin"@example.com'],
      ["a soft hyphen in the domain", "ursula@exam\u00adple.com"],
    ])("answers 400 naming the email when it holds %s", async (_case, email) => {
      await expectRefused(await subscribeAs(email), "email", "email must not contain spaces or invisible characters");
    });

    it("answers 400 for a domain that has no ASCII form", async () => {
      const response = await subscribeAs("ursula@xn--zz.example");
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ field: "email", message: "email must be a valid email address" });
    });
  });

  describe("names a person can't see", () => {
    const subscribeNamed = (name: string) => post(form({ name, email: "ursula@example.com" }));

    it.each([
      ["a zero-width space", "\u200b"],
      ["Hangul fillers", "\u3164\u3164"],
      ["Hangul choseong and jungseong fillers", "\u115f\u1160"],
      ["a halfwidth Hangul filler", "\uffa0"],
      ["a Braille blank", "\u2800"],
      ["a byte order mark and a word joiner", "\ufeff\u2060"],
      ["invisible operators", "\u2061\u2062\u2063\u2064"],
      ["a Mongolian vowel separator", "\u180e"],
      ["a combining mark on nothing", "\u0301"],
      ["variation selectors", "\ufe0f\u{e0100}"],
      ["tag characters", "\u{e0041}\u{e0042}"],
      ["no-break and ideographic spaces", "\u00a0\u3000\u2007"],
      ["a private-use character", "\ue000"],
      ["a mix of all of them", " \u200b\u3164\u00a0\u2800\ufe0f "],
    ])("answers 400 'name must not be empty' for a name made of %s", async (_case, name) => {
      await expectRefused(await subscribeNamed(name), "name", "name must not be empty");
    });

    it.each([
      ["a right-to-left override", "\u202eursula"],
      ["a left-to-right embedding", "ursula\u202a le guin\u202c"],
      ["a first-strong isolate", "\u2068ursula\u2069"],
      ["a right-to-left mark", "ursula\u200f"],
      ["an Arabic letter mark", "\u061cursula"],
      ["nothing but a bidi control", "\u202e"],
    ])("answers 400 for a name with %s", async (_case, name) => {
      await expectRefused(await subscribeNamed(name), "name", "name must not contain bidirectional control characters");
    });

    it.each([
      ["a thousand combining marks on one letter", `e${"\u0301".repeat(1000)}`],
      ["31 combining marks on one letter", `ursula${"\u0300".repeat(31)}`],
      ["a thousand zero-width joiners", `a${"\u200d".repeat(1000)}b`],
      ["a thousand variation selectors", `a${"\ufe0f".repeat(1000)}`],
    ])("answers 400 for a name with %s", async (_case, name) => {
      await expectRefused(
        await subscribeNamed(name),
        "name",
        "name must not stack more than 30 marks on one character",
      );
    });

    it("answers 400 for five thousand combining marks sent as raw UTF-8", async () => {
      const payload = Buffer.from(`name=e${"\u0301".repeat(5000)}&email=ursula%40example.com`);
      const response = await post(payload);
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ field: "name" });
      expect(await rows()).toEqual([]);
    });

    it("answers 400 for a line separator inside a name", async () => {
      const response = await subscribeNamed("ursula\u2028le guin");
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({
        field: "name",
        message: "name must not contain line or paragraph separators",
      });
    });

    it.each([
      [
        "an emoji ZWJ sequence with skin tones",
        "\u{1f469}\u{1f3fd}\u200d\u2764\ufe0f\u200d\u{1f48b}\u200d\u{1f468}\u{1f3ff}",
      ],
      ["a tag-sequence flag", "\u{1f3f4}\u{e0067}\u{e0062}\u{e0073}\u{e0063}\u{e0074}\u{e007f}"],
      ["a ZWJ in Devanagari", "\u0915\u094d\u200d\u0937"],
      ["a ZWNJ in Persian", "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"],
      ["30 combining marks on one letter", `Zalgo${"\u0300".repeat(30)}`],
      ["a Hangul filler between visible letters", "ursula\u3164le guin"],
      ["right-to-left text without controls", "\u05d0\u05d5\u05e8\u05e1\u05d5\u05dc\u05d4"],
    ])("accepts and stores a name with %s", async (_case, name) => {
      expect((await subscribeNamed(name)).statusCode).toBe(200);
      expect(await rows()).toEqual([{ email: "ursula@example.com", name }]);
    });

    it("trims invisible characters at either end, as it trims spaces", async () => {
      expect((await subscribeNamed("\u200b\u3164 ursula le guin\u00a0\ufeff\u2800")).statusCode).toBe(200);
      expect(await rows()).toEqual([{ email: "ursula@example.com", name: "ursula le guin" }]);
    });
  });

  describe("encodings and methods", () => {
    const unsupported = (field: string, message: string) => ({ error: "unsupported_media_type", field, message });
    const onlyForms = unsupported("content-type", "content-type must be application/x-www-form-urlencoded");
    const onlyUtf8 = unsupported("content-type", "content-type charset must be utf-8");
    const contentType = (value: string) => ({ "content-type": value });

    it.each<[string, string | Buffer, Record<string, string>, object]>([
      ["the body is JSON", JSON.stringify(valid), contentType("application/json"), onlyForms],
      ["the body is plain text", form(valid), contentType("text/plain"), onlyForms],
      [
        "the body is multipart",
        `--x\r\nContent-Disposition: form-data; name="name"\r\n\r\nursula\r\n--x--\r\n`,
        contentType("multipart/form-data; boundary=x"),
        onlyForms,
      ],
      [
        "the form is Latin-1",
        "name=Zo%EB&email=zoe%40example.com",
        contentType(`${FORM["content-type"]}; charset=iso-8859-1`),
        onlyUtf8,
      ],
      ["the form is windows-1252", form(valid), contentType(`${FORM["content-type"]}; charset=windows-1252`), onlyUtf8],
      [
        "the form is UTF-16",
        Buffer.from(form(valid), "utf16le"),
        contentType(`${FORM["content-type"]}; charset=utf-16le`),
        onlyUtf8,
      ],
      [
        "the form names the charset utf8 (no such label)",
        form(valid),
        contentType(`${FORM["content-type"]}; charset=utf8`),
        onlyUtf8,
      ],
    ])("answers 415 naming the content type and stores nothing when %s", async (_case, payload, headers, body) => {
      const response = await post(payload, headers);
      expect(response.statusCode).toBe(415);
      expect(response.json()).toEqual(body);
      expect(await rows()).toEqual([]);
    });

    it.each(["utf-8", "UTF-8", '"utf-8"'])("accepts a form that declares charset=%s", async (charset) => {
      const response = await post(form(valid), contentType(`${FORM["content-type"]}; charset=${charset}`));
      expect(response.statusCode).toBe(200);
      expect(await rows()).toEqual([valid]);
    });

    it.each<[string, string | Buffer]>([
      ["gzip", gzipSync(form(valid))],
      ["br", brotliCompressSync(form(valid))],
      ["deflate", deflateSync(form(valid))],
      ["x-gzip", gzipSync(form(valid))],
      ["identity, gzip", gzipSync(form(valid))],
      ["compress", form(valid)],
    ])(
      "answers 415 with Accept-Encoding: identity and stores nothing for Content-Encoding: %s",
      async (coding, payload) => {
        const response = await post(payload, { ...FORM, "content-encoding": coding });
        expect(response.statusCode).toBe(415);
        expect(response.headers["accept-encoding"]).toBe("identity");
        expect(response.json()).toEqual(
          unsupported("content-encoding", "content-encoding must be identity (no compression)"),
        );
        expect(await rows()).toEqual([]);
      },
    );

    it("accepts Content-Encoding: identity", async () => {
      expect((await post(form(valid), { ...FORM, "content-encoding": "identity" })).statusCode).toBe(200);
      expect(await rows()).toEqual([valid]);
    });

    it.each<[string, string, string]>([
      ["GET", "/subscriptions", "POST"],
      ["PUT", "/subscriptions", "POST"],
      ["DELETE", "/subscriptions", "POST"],
      ["PATCH", "/subscriptions", "POST"],
      ["OPTIONS", "/subscriptions", "POST"],
      ["POST", "/health_check", "GET, HEAD"],
      ["DELETE", "/health_check", "GET, HEAD"],
      ["GET", "/subscriptions?x=1", "POST"],
    ])("answers %s %s with 405 and Allow: %s", async (method, url, allow) => {
      const response = await app.inject({ method: method as "GET", url, headers: FORM, payload: form(valid) });
      expect(response.statusCode).toBe(405);
      expect(response.headers.allow).toBe(allow);
      expect(response.json()).toMatchObject({ error: "method_not_allowed" });
      expect(await rows()).toEqual([]);
    });

    it("answers 404 for a path that does not exist", async () => {
      const response = await app.inject({ method: "GET", url: "/nowhere" });
      expect(response.statusCode).toBe(404);
      expect(response.headers.allow).toBeUndefined();
    });
  });
});
