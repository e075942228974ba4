// A strict parser for application/x-www-form-urlencoded bodies, registered by app.ts as the content-type parser.
// Unlike the usual parsers it rejects what can't be decoded (invalid UTF-8, broken %-escapes), repeated fields and
// control characters, with a 400 that names the field, instead of silently turning bad bytes into U+FFFD.
import { isAscii } from "node:buffer";

/**
 * A client mistake in the request: answered with 400 (or 415 for a body in a form the service doesn't read) and a
 * JSON body naming the field or header.
 */
export class BadRequestError extends Error {
  override name = "BadRequestError";
  constructor(
    readonly field: string,
    message: string,
    readonly statusCode: 400 | 415 = 400,
  ) {
    super(message);
  }
}

/** A field's value after its checks, or the message that names what is wrong with it. */
export type Checked<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly message: string };

/**
 * Throws on bytes that are not UTF-8, rather than replacing them with U+FFFD: after a lenient decode, a U+FFFD can't
 * be told apart from one the client really sent (EF BF BD). `ignoreBOM` keeps a leading U+FEFF as content instead of
 * dropping it from the start of each field.
 */
// Stryker disable next-line StringLiteral: TextDecoder("") throws, so the module fails to load; StrykerJS's vitest
// runner (9.6.1) counts a test file that fails to import as no test run, and so reports the mutant as survived.
const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const AMPERSAND = 0x26;
/**
 * C0 controls, DEL and C1 controls (General_Category Cc), raw or %-escaped. No field may carry one: a CR/LF becomes a
 * header injection in the mail that quotes the field, and Postgres refuses U+0000 in text outright (SQLSTATE 22021).
 */
export const CONTROL = /\p{Cc}/u;
const EQUALS = 0x3d;

/**
 * Form fields by name, from the raw body. It is cut at `&` and `=` before decoding (neither byte can occur inside a
 * UTF-8 sequence), so a field whose bytes are not UTF-8 is named in the error. Percent-escapes are decoded with
 * decodeURIComponent, which throws on escapes that aren't UTF-8 (`%FF`).
 */
export function parseForm(body: Uint8Array): Record<string, string> {
  // Nearly every form is ASCII (a browser %-escapes everything else). ASCII bytes are their own UTF-8 text, so such a
  // body is cut and decoded as a string: the same fields, without a TextDecoder call per name and per value, which
  // cost more CPU than the rest of the form's handling (`npm run bench:app`).
  // Stryker disable next-line ConditionalExpression,BlockStatement: without the shortcut the byte-by-byte path reads
  // an ASCII body to the same fields and errors (tests/app/form.test.ts shows it); only the cost differs.
  if (isAscii(body)) {
    const text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("latin1");
    return fieldsOf(
      text.split("&"),
      (pair) => cut(pair, pair.indexOf("="), (from, to) => pair.slice(from, to)),
      decodeText,
    );
  }
  return parseFormBytes(body);
}

/** parseForm for any bytes, cut and decoded byte by byte. Exported to test that the ASCII path agrees with it. */
export function parseFormBytes(body: Uint8Array): Record<string, string> {
  return fieldsOf(
    split(body, AMPERSAND),
    (pair) => cut(pair, pair.indexOf(EQUALS), (from, to) => pair.subarray(from, to)),
    decodeComponent,
  );
}

/** A pair's name and value, cut at its first `=` (at `separator`, -1 for none: then the value is empty). */
function cut<Part>(
  pair: { length: number },
  separator: number,
  part: (from: number, to?: number) => Part,
): [Part, Part] {
  return separator === -1 ? [part(0), part(pair.length)] : [part(0, separator), part(separator + 1)];
}

/** The fields of a body already cut at `&`, each pair cut into name and value by `cutPair`, then decoded. */
function fieldsOf<Part extends { length: number }>(
  pairs: readonly Part[],
  cutPair: (pair: Part) => [Part, Part],
  decode: (raw: Part, field: string) => string,
): Record<string, string> {
  const fields: Record<string, string> = Object.create(null);
  for (const pair of pairs) {
    if (pair.length === 0) continue;
    const [rawName, rawValue] = cutPair(pair);
    const name = decode(rawName, "body");
    if (CONTROL.test(name)) throw new BadRequestError("body", "field names must not contain control characters");
    const value = decode(rawValue, name);
    if (CONTROL.test(value)) throw new BadRequestError(name, `${name} must not contain control characters`);
    if (Object.hasOwn(fields, name)) throw new BadRequestError(name, `${name} must be given only once`);
    fields[name] = value;
  }
  return fields;
}

/** The parts of `bytes` between occurrences of `separator`, like String#split. */
function split(bytes: Uint8Array, separator: number): Uint8Array[] {
  const parts: Uint8Array[] = [];
  let start = 0;
  for (let end = bytes.indexOf(separator); end !== -1; end = bytes.indexOf(separator, start)) {
    parts.push(bytes.subarray(start, end));
    start = end + 1;
  }
  parts.push(bytes.subarray(start));
  return parts;
}

function decodeComponent(raw: Uint8Array, field: string): string {
  try {
    return decodeURIComponent(UTF8.decode(raw).replaceAll("+", " "));
  } catch {
    throw new BadRequestError(field, `${field} is not valid UTF-8`);
  }
}

/** decodeComponent for text that is already a string (ASCII): nothing to decode without a `+` or a `%`. */
function decodeText(raw: string, field: string): string {
  // Stryker disable next-line ConditionalExpression,StringLiteral: decodeURIComponent returns such a string as it is.
  if (!raw.includes("%") && !raw.includes("+")) return raw;
  try {
    return decodeURIComponent(raw.replaceAll("+", " "));
  } catch {
    throw new BadRequestError(field, `${field} is not valid UTF-8`);
  }
}
