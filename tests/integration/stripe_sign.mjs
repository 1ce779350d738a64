// Signs webhook payloads with the official stripe library's test helper, for the pytest suite:
// reads {"payload", "secret", "timestamp"} as JSON on stdin, prints the Stripe-Signature value.
import Stripe from "stripe";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const { payload, secret, timestamp } = JSON.parse(Buffer.concat(chunks).toString("utf8"));
const stripe = new Stripe("sk_test_signing_only");
process.stdout.write(stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp }));
