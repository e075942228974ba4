import type { FastifyInstance } from "fastify";
import * as z from "zod";
import type { Database } from "../database";
import { parseEmailAddress } from "../email-address";
import type { Checked } from "../form";
import { parsePersonName } from "../person-name";
import { subscribe } from "../subscriptions";

/** Characters a name may not contain (Zero To Production, chapter 6): they'd help an injection somewhere downstream. */
const FORBIDDEN_IN_NAME = /[/()"<>\\{}]/;

/** A zod transform from a check that returns either the value or the message naming what is wrong. */
function checked<T>(check: (raw: string) => Checked<T>) {
  return (raw: string, context: z.RefinementCtx) => {
    const result = check(raw);
    if (result.ok) return result.value;
    context.addIssue({ code: "custom", message: result.message });
    return z.NEVER;
  };
}

/**
 * The form, as the route declares it. Issues are checked in this order, and the first one names the field.
 * person-name.ts says what counts as a visible name, email-address.ts when two addresses are one subscriber.
 */
export const SubscriptionForm = z.preprocess(
  (body) => body ?? {},
  z.object({
    name: z
      .string({ error: "name is required" })
      .transform(checked(parsePersonName))
      .refine((name) => !FORBIDDEN_IN_NAME.test(name), {
        error: 'name must not contain any of / ( ) " < > \\ { }',
      }),
    email: z.string({ error: "email is required" }).transform(checked(parseEmailAddress)),
  }),
);
export type SubscriptionForm = z.output<typeof SubscriptionForm>;

export async function subscriptionRoutes(app: FastifyInstance, options: { db: Database }): Promise<void> {
  app.post<{ Body: SubscriptionForm }>(
    "/subscriptions",
    { schema: { body: SubscriptionForm } },
    async (request, reply) => {
      await subscribe(options.db, request.body);
      // The same answer whether the address is new or already subscribed.
      reply.code(200).send();
    },
  );
}
