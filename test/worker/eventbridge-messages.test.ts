import { expect } from "chai";
import type { Message } from "@aws-sdk/client-sqs";
import Stripe from "stripe";
import { buildDeadLetterMessage } from "../../src/entry-points/worker/dead-letter.js";
import { holdMessage } from "../../src/entry-points/worker/held-message.js";
import { loadEvent } from "../sync/support/sync-fixtures.js";
import { TRUSTED_EVENTBRIDGE, eventBridgeBody, loadThinEvent } from "../support/eventbridge.js";
import { capturingLogger } from "./worker-harness.js";

/** A message as EventBridge's SQS target delivers it: the envelope as body, no message attributes. */
const delivered = (body: string): Message => ({
  MessageId: "msg-eb-1",
  ReceiptHandle: "rh-eb-1",
  Body: body,
  Attributes: { ApproximateReceiveCount: "1" },
});

describe("worker: EventBridge envelopes on the queue", () => {
  const { logger, lines } = capturingLogger();
  const hold = (body: string, trust = TRUSTED_EVENTBRIDGE) => holdMessage(delivered(body), logger, 0, trust);

  it("a trusted envelope yields the very event the Stripe SDK unwraps from it", () => {
    const body = eventBridgeBody({ ...loadEvent("customer.subscription.updated") });
    const held = hold(body);
    expect(held.rejection).to.equal(undefined);
    expect(held.origin).to.equal("eventbridge");
    expect(held.event).to.deep.equal(Stripe.webhooks.constructEventWithoutVerification(body));
    expect(held.needsObject).to.equal(false);
    expect(held.partitionKey).to.equal(
      String(loadEvent("customer.subscription.updated").data.object.customer),
    );
  });

  it("a Connect event keeps its account, and the message's log lines carry it and the origin", () => {
    const event = { ...loadEvent("customer.updated"), account: "acct_1ConnectedA" };
    const held = hold(eventBridgeBody(event));
    expect(held.event?.account).to.equal("acct_1ConnectedA");
    held.log.info("probe");
    expect(lines.at(-1)).to.include({
      account: "acct_1ConnectedA",
      origin: "eventbridge",
      eventId: event.id,
    });
  });

  it("a thin event reads as the notification the Stripe SDK parses, made into an event to complete", () => {
    const thin = loadThinEvent("v1.customer.updated", { context: "acct_1ConnectedA" });
    const body = eventBridgeBody(thin);
    const notification = new Stripe("sk_test_unused").parseEventNotificationWithoutVerification(body);
    const held = hold(body);
    expect(held.isThin).to.equal(true);
    expect(held.needsObject).to.equal(true);
    expect(held.event).to.deep.include({
      id: notification.id,
      type: notification.type.replace(/^v1\./, ""),
      created: Date.parse(notification.created) / 1000,
      livemode: notification.livemode,
      account: notification.context?.toString(),
    });
    expect(held.event?.data.object).to.deep.equal({
      id: (notification as { related_object: { id: string } }).related_object.id,
      object: "customer",
    });
  });

  it("a thin event that names its snapshot event takes that id, so one change is applied once however it came", () => {
    const held = hold(
      eventBridgeBody(loadThinEvent("v1.customer.updated", { snapshot_event: "evt_1QxSnap" })),
    );
    expect(held.event?.id).to.equal("evt_1QxSnap");
  });

  it("an envelope from an event destination not configured is refused as untrusted_source, naming it", () => {
    const held = hold(
      eventBridgeBody(loadEvent("customer.updated"), { source: "aws.partner/stripe.com/ed_other" }),
    );
    expect(held.event).to.equal(undefined);
    expect(held.rejection?.reason).to.equal("untrusted_source");
    expect(held.rejection?.detail)
      .to.contain('"aws.partner/stripe.com/ed_other"')
      .and.contain("EVENTBRIDGE_SOURCES");
  });

  it("an envelope from another AWS account is refused as untrusted_source, naming the account", () => {
    const held = hold(eventBridgeBody(loadEvent("customer.updated"), { account: "999999999999" }));
    expect(held.rejection?.reason).to.equal("untrusted_source");
    expect(held.rejection?.detail).to.contain('"999999999999"').and.contain("EVENTBRIDGE_AWS_ACCOUNTS");
  });

  it("any other EventBridge source (not a Stripe destination) is refused too", () => {
    const held = hold(eventBridgeBody(loadEvent("customer.updated"), { source: "aws.ec2" }));
    expect(held.rejection?.reason).to.equal("untrusted_source");
  });

  it("without EventBridge settings every envelope is refused, saying which settings accept them", () => {
    const held = hold(eventBridgeBody(loadEvent("customer.updated")), { sources: [], awsAccounts: [] });
    expect(held.rejection?.reason).to.equal("untrusted_source");
    expect(held.rejection?.detail).to.contain("set EVENTBRIDGE_SOURCES and EVENTBRIDGE_AWS_ACCOUNTS");
  });

  it("a trusted envelope whose detail is not a Stripe event is refused as unparseable_body", () => {
    const body = JSON.stringify({
      ...JSON.parse(eventBridgeBody(loadEvent("customer.updated"))),
      detail: { hello: 1 },
    });
    expect(hold(body).rejection?.reason).to.equal("unparseable_body");
  });

  it("the web role's messages read as before", () => {
    const event = loadEvent("payment_intent.succeeded");
    const held = holdMessage({ ...delivered(JSON.stringify(event)), MessageAttributes: {} }, logger, 0);
    expect(held.origin).to.equal("webhook");
    expect(held.event).to.deep.equal(event);
  });

  it("a dead-lettered envelope is named by its event's id and type, as the web role's messages are", () => {
    const event = loadEvent("customer.updated");
    const input = buildDeadLetterMessage("http://sqs/q-dlq", hold(eventBridgeBody(event)), {
      reason: "STRING_TOO_LONG",
      detail: "d",
    });
    expect(input.MessageAttributes?.event_id?.StringValue).to.equal(event.id);
    expect(input.MessageAttributes?.event_type?.StringValue).to.equal("customer.updated");
  });
});
