import type { FastifyInstance } from "fastify";
import type { Database } from "../database";
import { parseEmailAddress } from "../email-address";
import { BadRequestError, type Checked } from "../form";
import { refuseContentEncoding, runWhenAnswerable } from "../http";
import { parsePersonName } from "../person-name";
import { type NewSubscription, subscribe } from "../subscriptions";

/** Characters a name may not contain (Zero To Production, chapter 6): they'd help an injection somewhere downstream. */
const FORBIDDEN_IN_NAME = /[/()"<>\\{}]/;

/**
 * The subscription a form asks for. Fields are checked in this order, and the first problem is thrown as a 400
 * naming its field. person-name.ts says what counts as a visible name, email-address.ts when two addresses are one
 * subscriber.
 *
 * Plain functions rather than a schema library: the checks that matter are those two modules' own, and a schema
 * around them (zod's object, preprocess and transform steps, and Fastify's validation hook) cost more CPU per
 * request than the INSERT's own work in Node (`npm run bench:app`, POST ÷ the bare route).
 */
export function parseSubscriptionForm(body: Readonly<Record<string, string>> | undefined): NewSubscription {
  const fields = body ?? {};
  const name = required(fields, "name", parsePersonName);
  if (FORBIDDEN_IN_NAME.test(name)) {
    throw new BadRequestError("name", 'name must not contain any of / ( ) " < > \\ { }');
  }
  const email = required(fields, "email", parseEmailAddress);
  return { name, email };
}

function required<T>(fields: Readonly<Record<string, string>>, field: string, check: (raw: string) => Checked<T>): T {
  // parseForm's fields have no prototype, so only a field the client sent is found here.
  const raw = fields[field];
  if (raw === undefined) throw new BadRequestError(field, `${field} is required`);
  const result = check(raw);
  if (!result.ok) throw new BadRequestError(field, result.message);
  return result.value;
}

export async function subscriptionRoutes(app: FastifyInstance, options: { db: Database }): Promise<void> {
  app.post<{ Body: Record<string, string> | undefined }>(
    "/subscriptions",
    // A compressed body is refused before it is read; the subscription is stored only if its answer can still be
    // sent (http.ts). Route hooks, not app-wide ones: the health check, polled constantly, reads no body and changes
    // nothing, and every hook costs each of its requests a little.
    { onRequest: refuseContentEncoding, preHandler: runWhenAnswerable },
    async (request, reply) => {
      await subscribe(options.db, parseSubscriptionForm(request.body));
      // The same answer whether the address is new or already subscribed.
      reply.code(200).send();
    },
  );
}
