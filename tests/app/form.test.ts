// The form parser on its own (app/src/form.ts): bytes in, fields or a 400 out, no server and no database.
import { describe, expect, it } from "vitest";
import { BadRequestError, parseForm, parseFormBytes } from "../../app/src/form";
import { seededRandom } from "../support/random";

const bytes = (...parts: (string | number[])[]) =>
  Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p, "latin1") : Buffer.from(p))));
const form = (body: string) => parseForm(bytes(body));

function errorOf(parse: () => unknown): { name: string; field: string; statusCode: number; message: string } {
  try {
    parse();
  } catch (error) {
    expect(error).toBeInstanceOf(BadRequestError);
    const { name, field, statusCode, message } = error as BadRequestError;
    return { name, field, statusCode, message };
  }
  throw new Error("expected parseForm to throw");
}

describe("parseForm", () => {
  it("decodes names and values, with + as a space and %-escapes as UTF-8", () => {
    expect(form("name=le+guin&email=ursula_le_guin%40gmail.com&city=K%C3%B6ln")).toEqual({
      name: "le guin",
      email: "ursula_le_guin@gmail.com",
      city: "Köln",
    });
  });

  it("cuts at & and = before decoding, so escaped ones stay inside the value", () => {
    expect(form("q=a%26b%3Dc&r=x=y")).toEqual({ q: "a&b=c", r: "x=y" });
  });

  it("skips empty pairs and reads a name without = as an empty value", () => {
    expect(form("&a=1&&b&c=&")).toEqual({ a: "1", b: "", c: "" });
    expect(form("")).toEqual({});
  });

  it("reads a pair with an empty name", () => {
    expect(form("=x&y=1")).toEqual({ "": "x", y: "1" });
  });

  it("keeps a leading byte order mark and a U+FFFD the client really sent", () => {
    const fields = parseForm(bytes([0xef, 0xbb, 0xbf], "name=a&x=", [0xef, 0xbf, 0xbd]));
    expect(fields).toEqual({ "\uFEFFname": "a", x: "\uFFFD" });
  });

  it("returns an object without a prototype, so __proto__ is just a field", () => {
    const fields = form("__proto__=x&constructor=y");
    expect(Object.getPrototypeOf(fields)).toBeNull();
    expect(Object.entries(fields)).toEqual([
      ["__proto__", "x"],
      ["constructor", "y"],
    ]);
  });

  it("refuses a field given twice, naming it", () => {
    expect(errorOf(() => form("email=a%40b.c&name=x&email=d%40e.f"))).toEqual({
      name: "BadRequestError",
      field: "email",
      statusCode: 400,
      message: "email must be given only once",
    });
    expect(errorOf(() => form("hasOwnProperty=1&hasOwnProperty=2")).message).toBe(
      "hasOwnProperty must be given only once",
    );
  });

  it.each([
    ["raw bytes that are not UTF-8", bytes("name=", [0xff, 0xfe])],
    ["an escape that is not UTF-8", bytes("name=%FF")],
    ["a broken escape", bytes("name=%zz")],
    ["a cut escape", bytes("name=%E2%82")],
    ["an overlong encoding", bytes("name=", [0xc0, 0xaf])],
  ])("refuses %s in a value, naming the field", (_case, body) => {
    expect(errorOf(() => parseForm(body))).toEqual({
      name: "BadRequestError",
      field: "name",
      statusCode: 400,
      message: "name is not valid UTF-8",
    });
  });

  it("names the body when the field's name itself is not UTF-8", () => {
    expect(errorOf(() => parseForm(bytes([0xff], "=1")))).toEqual({
      name: "BadRequestError",
      field: "body",
      statusCode: 400,
      message: "body is not valid UTF-8",
    });
    expect(errorOf(() => form("%FF=1&name=x")).field).toBe("body");
  });

  it("checks every field, not only the first", () => {
    expect(errorOf(() => form("name=ok&email=%FF")).field).toBe("email");
  });

  it("reads an ASCII body as the byte-by-byte parser does, fields and errors alike, for 5,000 random bodies", () => {
    const next = seededRandom(20261202); // the same bodies on every run
    // What forms are made of, with the separators, escapes (valid, invalid, of a control character, of UTF-8 and of
    // bytes that are not) and controls over-represented.
    const pieces = ["&", "=", "+", "%", "%2", "%41", "%C3%A9", "%FF", "%00", "%0A", "%26", "%3D", "\t", "\u007f"];
    const outcome = (parse: () => unknown) => {
      try {
        return { fields: parse() };
      } catch (error) {
        const { field, message, statusCode } = error as BadRequestError;
        return { field, message, statusCode };
      }
    };
    for (let n = 0; n < 5_000; n++) {
      let text = "";
      const length = Math.floor(next() * 40);
      for (let i = 0; i < length; i++) {
        text +=
          next() < 0.4
            ? (pieces[Math.floor(next() * pieces.length)] ?? "")
            : String.fromCharCode(0x20 + Math.floor(next() * 0x5f));
      }
      const body = Buffer.from(text, "latin1");
      expect(
        outcome(() => parseForm(body)),
        JSON.stringify(text),
      ).toEqual(outcome(() => parseFormBytes(body)));
    }
  });

  it("reads a body with bytes beyond ASCII byte by byte, naming the field that is not UTF-8", () => {
    expect(form("name=K\xc3\xb6ln&city=ok")).toEqual({ name: "Köln", city: "ok" });
    expect(errorOf(() => parseForm(bytes("name=ok&email=", [0xc3])))).toMatchObject({ field: "email" });
  });

  it("refuses a control character in a field's name, naming the body, and in its value, naming the field", () => {
    for (const body of ["a%0Ab=1", "a\tb=1", "%7F=1"]) {
      expect(errorOf(() => form(body))).toEqual({
        name: "BadRequestError",
        field: "body",
        statusCode: 400,
        message: "field names must not contain control characters",
      });
    }
    for (const body of ["name=a%0Db", "name=a\u0000b", "name=%C2%85"]) {
      expect(errorOf(() => form(body))).toEqual({
        name: "BadRequestError",
        field: "name",
        statusCode: 400,
        message: "name must not contain control characters",
      });
    }
  });
});
