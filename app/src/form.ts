// A strict parser for application/x-www-form-urlencoded bodies, plugged into @fastify/formbody. Unlike the default
// parser it rejects what can't be decoded (invalid UTF-8, broken %-escapes) and repeated fields, with a 400 that
// names the field, instead of silently turning bad bytes into U+FFFD.

/** A client mistake in the request: answered with 400 and a JSON body naming the field. */
export class BadRequestError extends Error {
  override name = "BadRequestError";
  readonly statusCode = 400;
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Form fields by name. `body` is what @fastify/formbody hands over: the bytes decoded as UTF-8, where every invalid
 * sequence has already become U+FFFD (Buffer#toString), so a raw U+FFFD here means the bytes were not UTF-8.
 * Percent-escapes are decoded with decodeURIComponent, which throws on escapes that aren't UTF-8 (`%FF`).
 */
export function parseForm(body: string): Record<string, string> {
  const fields: Record<string, string> = Object.create(null);
  for (const pair of body.split("&")) {
    if (pair === "") continue;
    const separator = pair.indexOf("=");
    const rawName = separator === -1 ? pair : pair.slice(0, separator);
    const rawValue = separator === -1 ? "" : pair.slice(separator + 1);
    const name = decodeComponent(rawName, "body");
    const value = decodeComponent(rawValue, name);
    if (Object.hasOwn(fields, name)) throw new BadRequestError(name, `${name} must be given only once`);
    fields[name] = value;
  }
  return fields;
}

function decodeComponent(raw: string, field: string): string {
  const invalid = () => new BadRequestError(field, `${field} is not valid UTF-8`);
  if (raw.includes("\uFFFD")) throw invalid();
  try {
    return decodeURIComponent(raw.replaceAll("+", " "));
  } catch {
    throw invalid();
  }
}
