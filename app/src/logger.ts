// Structured JSON logs on stdout, shared by the server (through Fastify) and the migration runner.
import pino, { type DestinationStream, type LoggerOptions } from "pino";
import type { Settings } from "./settings";

/**
 * Keys whose values are censored whatever they hold (pino's redaction, https://getpino.io/#/docs/redaction): a
 * password or token other than the configured one (a settings object someone logs by mistake) has no text to look
 * for.
 * Plain top-level paths only: a wildcard (`*.password`) makes pino walk every top-level value of every line, and a
 * path under `req` would run on every request's line. Request headers need none: Fastify's request serializer logs
 * method, URL, host, client address and port, and no other header (fastify, lib/logger-pino.js, serializers.req).
 */
const REDACTED_PATHS = [
  "password",
  "database.password",
  "settings.database.password",
  "authorization_token",
  "email_client.authorization_token",
  "settings.email_client.authorization_token",
];

/** What a censored value reads as: the first of these that does not itself spell the secret. */
const CENSORS = ["[redacted]", "[REDACTED]", "***", "###", "~~~", "(censored)"];

/** How long a line may wait in the server's log buffer before it is written. */
export const LOG_FLUSH_INTERVAL_MS = 250;

/**
 * Where the server writes its lines: stdout, gathered into writes of at least 4 KiB (pino's asynchronous logging,
 * https://getpino.io/#/docs/asynchronous, on sonic-boom), with whatever has gathered written every
 * LOG_FLUSH_INTERVAL_MS (sonic-boom's periodicFlush), so on a quiet server a line is late by at most that.
 * One write per line was one system call per request; batched, a busy server makes one for several lines (about six
 * under `npm run bench:app`'s load, counted with strace). pino writes what is buffered synchronously when the process
 * exits, however it exits short of a kill (pino lib/tools.js, buildSafeSonicBoom registers autoEnd for `exit` with
 * on-exit-leak-free; Node emits `exit` after an uncaught exception too): what a SIGKILL or the out-of-memory
 * killer loses is the last LOG_FLUSH_INTERVAL_MS of lines.
 */
export function serverLogDestination(): ReturnType<typeof pino.destination> {
  return pino.destination({ dest: 1, sync: false, minLength: 4096, periodicFlush: LOG_FLUSH_INTERVAL_MS });
}

/**
 * pino options for this service: JSON lines, the database password and the email API's token censored in every
 * value of every line (see `redactingOptions`).
 */
export function loggerOptions(settings: Settings): LoggerOptions {
  return {
    ...redactingOptions(settings.database.password, settings.email_client.authorization_token),
    level: settings.application.log_level,
    base: { service: "newsletter", version: settings.application.version },
  };
}

/**
 * The redaction alone, for a logger that has no settings to describe: an entry point whose settings failed to load
 * still knows the secrets a deployment sets (APP_DATABASE__PASSWORD, APP_EMAIL_CLIENT__AUTHORIZATION_TOKEN).
 *
 * Values are redacted, never the text of a line: a password such as `30`, `level` or `"` also occurs in the JSON
 * around the values (`"level":30`), and cutting it out of the text would leave a line that is no longer JSON. So a
 * line is written as pino made it unless the secret may be in it (one regular expression test per line); only then
 * is it parsed, every string in it (messages, error texts and stacks, URLs, request ids, nested values) has the
 * secret replaced, and it is serialised again. Numbers, booleans and key names are left alone: they are written by
 * code, not taken from data, and a password of digits occurs in every timestamp.
 */
export function redactingOptions(...secrets: Array<string | undefined>): LoggerOptions {
  const known = secrets.filter((secret): secret is string => secret !== undefined && secret !== "");
  if (known.length === 0) return { redact: { paths: REDACTED_PATHS, censor: CENSORS[0] } };
  const secret = secretMatcher(...known);
  return {
    redact: { paths: REDACTED_PATHS, censor: secret.censor },
    hooks: { streamWrite: (line) => secret.redactLine(line) },
  };
}

export interface SecretMatcher {
  /** What replaces the secret: a marker that does not contain it. */
  readonly censor: string;
  /** `text` with every spelling of the secret replaced by the censor. */
  redactText(text: string): string;
  /** A JSON line with the secret replaced in every string value; still one JSON object and a newline. */
  redactLine(line: string): string;
}

/**
 * Finds secrets in any of the forms it takes on its way into a log line: as it is, JSON-escaped (`\"`, `\u0022`,
 * inside an error message that quotes JSON), percent-encoded (in a URL or a form body, upper- or lower-case hex, `+`
 * for a space), or any mix of those character by character. `redactLine` also finds those forms once more
 * JSON-escaped, as they appear in the text of a line.
 */
export function secretMatcher(...secrets: string[]): SecretMatcher {
  // Longest first, so that a secret that begins another is not matched in its place.
  const ordered = [...secrets].sort((a, b) => b.length - a.length);
  const pattern = (forms: (character: string) => string[]) =>
    ordered.map((secret) => [...secret].map((c) => group(forms(c))).join("")).join("|");
  const inValue = new RegExp(pattern(valueForms), "g");
  const inLine = new RegExp(pattern(lineForms));
  const contains = (text: string) => {
    inValue.lastIndex = 0;
    return inValue.test(text);
  };
  const censor = CENSORS.find((candidate) => !contains(candidate)) ?? "";
  const redactText = (text: string) => text.replace(inValue, censor);
  const redactValue = (value: unknown): unknown => {
    if (typeof value === "string") return redactText(value);
    if (Array.isArray(value)) return value.map(redactValue);
    if (value !== null && typeof value === "object") {
      const redacted: Record<string, unknown> = {};
      for (const [key, inner] of Object.entries(value)) redacted[key] = redactValue(inner);
      return redacted;
    }
    return value;
  };
  return {
    censor,
    redactText,
    redactLine(line) {
      if (!inLine.test(line)) return line;
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        // pino writes one JSON object per line, so this is not expected; if it ever happens, say so without the line.
        return `${JSON.stringify({ level: 50, time: Date.now(), msg: "log line withheld: it may hold the database password and is not JSON" })}\n`;
      }
      return `${JSON.stringify(redactValue(parsed))}\n`;
    },
  };
}

const group = (alternatives: readonly string[]) => `(?:${[...new Set(alternatives)].join("|")})`;
const literal = (text: string) => text.replace(/[\\^$.*+?()[\]{}|/-]/g, "\\$&");
/** `n` as `width` hex digits, either case: 0x2f → `2[fF]`. */
const hex = (n: number, width: number) =>
  n
    .toString(16)
    .padStart(width, "0")
    .replace(/[a-f]/g, (d) => `[${d}${d.toUpperCase()}]`);

/** JSON's escapes for one character, as literal text: `"` → `\"` (and always `\uXXXX`, per UTF-16 unit). */
function jsonEscapes(character: string): string[] {
  const short: Record<string, string> = {
    '"': '\\"',
    "\\": "\\\\",
    "/": "\\/",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
  };
  const escapes = short[character] === undefined ? [] : [short[character]];
  return escapes;
}

/** `\uXXXX` for each UTF-16 unit of the character, as a pattern (either case), with `backslashes` before each u. */
function unicodeEscape(character: string, backslashes: string): string {
  let pattern = "";
  for (let i = 0; i < character.length; i++) pattern += `${backslashes}u${hex(character.charCodeAt(i), 4)}`;
  return pattern;
}

/** The character's UTF-8 bytes, percent-encoded (either case of hex): `/` → `%2[fF]`. */
function percentEncoded(character: string): string {
  return [...Buffer.from(character, "utf8")].map((byte) => `%${hex(byte, 2)}`).join("");
}

/** Patterns for one character of the secret inside a string value. */
function valueForms(character: string): string[] {
  return [
    literal(character),
    percentEncoded(character),
    ...(character === " " ? ["\\+"] : []),
    ...jsonEscapes(character).map(literal),
    unicodeEscape(character, "\\\\"),
  ];
}

/** Patterns for one character of the secret in the text of a JSON line: each value form, as JSON writes it. */
function lineForms(character: string): string[] {
  // JSON.stringify and pino write a character as itself, with a short escape, or as \uXXXX (control characters,
  // lone surrogates); a backslash that is part of an escape inside the value is itself written as `\\`.
  const asWritten = [literal(character), ...jsonEscapes(character).map(literal), unicodeEscape(character, "\\\\")];
  const escapesInValue = [
    ...jsonEscapes(character).map((text) => literal(text.replace(/[\\"]/g, "\\$&"))),
    unicodeEscape(character, "\\\\\\\\"),
  ];
  return [...asWritten, percentEncoded(character), ...(character === " " ? ["\\+"] : []), ...escapesInValue];
}

export type { DestinationStream };
