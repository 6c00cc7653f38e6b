import type { Message } from "@aws-sdk/client-sqs";
import {
  context,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Link,
  type Span,
  type TextMapGetter,
} from "@opentelemetry/api";
import { ATTRIBUTE } from "../../domain/ingest/queue-message-codec.js";
import type { EventSyncer } from "../../domain/sync/sync-events.js";
import { recordFailure } from "../../shared/in-span.js";
import type { Logger } from "../../shared/logger.js";
import { messagingAttributes, queueNameOf, SPAN_ATTRIBUTE } from "../../shared/span-attributes.js";
import type { Tracing } from "../../shared/tracing.js";
import { holdMessage, readStringAttribute, type HeldMessage } from "./held-message.js";
import type { EventBridgeTrust } from "../../domain/ingest/eventbridge-envelope.js";

/** Name of the span of one group's sync. */
export const GROUP_SPAN_NAME = "sync group";

/** Reads a message's String attributes for the propagator (`traceparent`, `tracestate`). */
const messageAttributeGetter: TextMapGetter<Message> = {
  keys: (message) => Object.keys(message.MessageAttributes ?? {}),
  get: (message, key) => readStringAttribute(message, key),
};

/**
 * The worker's spans, hand-made around its own pieces: each message's `process <queue>` span,
 * continuing the trace its attributes carry, from the receive until the message is settled (so
 * the queue's wait shows before it, the coalescing window inside it); each group's `sync group`
 * span, linked to every message it holds, with the Stripe re-reads, the store's round trips and
 * the Salesforce calls as its children.
 */
export class MessageTracing {
  /** Each held message's span, also by its event (what the syncer's items carry). */
  private readonly spans = new WeakMap<object, Span>();
  private readonly processName: string;
  private readonly processAttributes: Record<string, string>;

  constructor(
    private readonly tracing: Tracing,
    queueUrl: string,
  ) {
    this.processName = `process ${queueNameOf(queueUrl)}`;
    this.processAttributes = messagingAttributes(queueUrl, "process");
  }

  /**
   * `holdMessage` with the message's span: a child of the W3C context its attributes carry (a new
   * trace without one), ended once the message is settled; its log lines carry the span's
   * `traceId` and `spanId` beside the correlation id.
   */
  readonly holdMessage = (
    message: Message,
    logger: Logger,
    heldAt: number,
    trust?: EventBridgeTrust,
  ): HeldMessage => {
    const parent = this.tracing.messagePropagator.extract(ROOT_CONTEXT, message, messageAttributeGetter);
    const correlationId = readStringAttribute(message, ATTRIBUTE.correlationId);
    const span = this.tracing.tracer.startSpan(
      this.processName,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          ...this.processAttributes,
          ...(message.MessageId ? { [SPAN_ATTRIBUTE.messageId]: message.MessageId } : {}),
          ...(correlationId ? { [SPAN_ATTRIBUTE.correlationId]: correlationId } : {}),
        },
      },
      parent,
    );
    const { traceId, spanId } = span.spanContext();
    const held = holdMessage(message, logger.child({ traceId, spanId }), heldAt, trust);
    span.setAttribute(SPAN_ATTRIBUTE.receiveCount, held.receiveCount);
    if (held.event) {
      span.setAttribute(SPAN_ATTRIBUTE.eventId, held.event.id);
      span.setAttribute(SPAN_ATTRIBUTE.eventType, held.event.type);
      this.spans.set(held.event, span);
    }
    this.spans.set(held, span);
    void held.whenSettled.then(() => span.end());
    return held;
  };

  /**
   * `run` (one group's processing) in the group's span, active meanwhile. The span links to every
   * message's span and each of those links back; a group of one continues its message's trace (its
   * parent), a larger one starts its own. Links past the SDK's limit go on `sync group links` spans.
   */
  traceGroups<T>(run: (messages: HeldMessage[]) => Promise<T>): (messages: HeldMessage[]) => Promise<T> {
    return async (messages) => {
      const group = this.startGroupSpan(messages);
      try {
        return await context.with(group.active, () => run(messages));
      } catch (error) {
        recordFailure(group.span, error);
        throw error;
      } finally {
        group.span.end();
      }
    };
  }

  private startGroupSpan(messages: readonly HeldMessage[]): { span: Span; active: Context } {
    const { tracer, linkLimit } = this.tracing;
    const held = messages.flatMap((message) => {
      const span = this.spans.get(message);
      return span ? [{ message, span }] : [];
    });
    const links: Link[] = held.map(({ message, span }) => ({
      context: span.spanContext(),
      attributes: {
        [SPAN_ATTRIBUTE.messageId]: message.messageId,
        ...(message.event ? { [SPAN_ATTRIBUTE.eventId]: message.event.id } : {}),
      },
    }));
    const only = messages.length === 1 ? held[0]?.span : undefined;
    const parent = only ? trace.setSpan(ROOT_CONTEXT, only) : ROOT_CONTEXT;
    const span = tracer.startSpan(
      GROUP_SPAN_NAME,
      {
        kind: SpanKind.INTERNAL,
        links: links.slice(0, linkLimit),
        attributes: {
          [SPAN_ATTRIBUTE.groupSize]: messages.length,
          ...(messages.length > 1 ? { [SPAN_ATTRIBUTE.batchMessageCount]: messages.length } : {}),
        },
      },
      parent,
    );
    const active = trace.setSpan(parent, span);
    for (let start = linkLimit; start < links.length; start += linkLimit)
      tracer
        .startSpan(`${GROUP_SPAN_NAME} links`, { links: links.slice(start, start + linkLimit) }, active)
        .end();
    if (!only) for (const message of held) message.span.addLink({ context: span.spanContext() });
    return { span, active };
  }

  /** The syncer, writing each event's outcome on its message's span (a dead letter marks it failed). */
  traceOutcomes(syncer: EventSyncer): EventSyncer {
    return {
      syncEvents: async (items, log) => {
        const outcomes = await syncer.syncEvents(items, log);
        outcomes.forEach((outcome, i) => {
          const span = items[i] && this.spans.get(items[i].event);
          if (!span) return;
          span.setAttribute(SPAN_ATTRIBUTE.outcome, outcome.status);
          if ("reason" in outcome) span.setAttribute(SPAN_ATTRIBUTE.outcomeReason, outcome.reason);
          if (outcome.status === "dead-letter")
            span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.detail });
        });
        return outcomes;
      },
    };
  }
}
