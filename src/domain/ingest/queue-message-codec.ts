import { isAscii } from "node:buffer";
import { promisify } from "node:util";
import { gunzipSync, gzip } from "node:zlib";

const gzipAsync = promisify(gzip);

/**
 * The queue message format, both ways: the webhook encodes a verified event with `encodeEventMessage`,
 * the worker reads it back with `decodeEventMessage`. Three forms, told apart by the `body_format`
 * attribute:
 * - absent: the event JSON as Stripe signed it, with characters SQS refuses written as JSON escapes
 *   (the same event once parsed; byte for byte the same when it had none);
 * - `gzip-base64`: that JSON gzipped, then base64, for an event larger than the queue accepts;
 * - `slim-envelope`: still too large, so only the envelope and `data.object`'s id and kind travel,
 *   and the worker re-reads the object from the Stripe API.
 * With tracing on, the W3C trace context rides along as `traceparent` and `tracestate`: at most six
 * attributes, so the four `dlq_*` ones a dead letter adds stay within SQS's limit of ten.
 * The same queue also carries what no web role wrote: Amazon EventBridge envelopes, without
 * attributes, which the worker tells from the body (eventbridge-envelope.ts, worker/parse-message.ts).
 */
export const ATTRIBUTE = {
  eventId: "event_id",
  eventType: "event_type",
  correlationId: "correlation_id",
  bodyFormat: "body_format",
} as const;

/** Values of the `body_format` attribute; absent means the event JSON itself. */
export type BodyFormat = "gzip-base64" | "slim-envelope";

/** The message attributes of one event, by name (all of SQS data type String). */
export type MessageAttributes = Readonly<Record<string, string>>;

/** The body and attributes of one event's queue message. */
export interface EncodedMessage {
  body: string;
  attributes: MessageAttributes;
  /** Size as SQS counts it against MaximumMessageSize: body plus each attribute's name, type and value. */
  sizeBytes: number;
  /** Set when the body is not the event JSON itself. */
  format: BodyFormat | undefined;
}

/** The envelope fields a slimmed event keeps, read from the verified event. */
export interface SlimEnvelopeFields {
  id: string;
  type: string;
  created: number;
  livemode: boolean | undefined;
  /** The connected account of a Connect event, when there is one. */
  account: string | undefined;
  apiVersion: string | null | undefined;
  /** `data.object.id` and `data.object.object`, e.g. `sub_...` and `subscription`. */
  objectId: string | undefined;
  objectKind: string | undefined;
}

/** What the webhook hands the encoder. */
export interface EncodeInput {
  /** The verified body as received, byte for byte. */
  raw: Buffer;
  /** The same body decoded as UTF-8, which parsed as JSON. */
  json: string;
  envelope: SlimEnvelopeFields;
  correlationId: string;
  /** The trace context to carry (`traceparent`, `tracestate`), counted in the size like the others. */
  traceAttributes?: MessageAttributes;
  /** The queue's MaximumMessageSize in bytes. */
  maxMessageBytes: number;
  /** A slimmed envelope may be sent: the worker can re-read objects (a Stripe API key is configured). */
  canSlim: boolean;
}

// Allowed in an SQS body: #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF. Tested per
// UTF-16 unit, so characters above U+FFFF (surrogate pairs) are escaped too: AWS accepts them, but
// fauxqs, the local queue, refuses them, and escaping costs a few bytes. Inside a JSON string a
// `\uXXXX` escape parses to the same unit; raw control characters cannot occur outside one in JSON
// that parsed, so the escaped body parses to the same value.
const REFUSED_UNIT = /[^\t\n\r\x20-\ud7ff\ue000-\ufffd]/g;
const HAS_REFUSED_UNIT = /[^\t\n\r\x20-\ud7ff\ue000-\ufffd]/;

const escapeUnit = (unit: string) => `\\u${unit.charCodeAt(0).toString(16).padStart(4, "0")}`;

/** The JSON with every UTF-16 unit outside SQS's character set written as a `\uXXXX` escape. */
export function escapeForQueue(json: string): string {
  return HAS_REFUSED_UNIT.test(json) ? json.replace(REFUSED_UNIT, escapeUnit) : json;
}

/** Bytes the attributes add to a message's size: name, data type (`String`) and value of each. */
export function attributeBytes(attributes: MessageAttributes): number {
  let bytes = 0;
  for (const name in attributes) bytes += Buffer.byteLength(name) + 6 + Buffer.byteLength(attributes[name]!);
  return bytes;
}

/** The slimmed envelope: the event without `data.object`'s fields beyond its id and kind. */
export function slimEnvelope(fields: SlimEnvelopeFields): string {
  return JSON.stringify({
    id: fields.id,
    object: "event",
    type: fields.type,
    created: fields.created,
    livemode: fields.livemode,
    ...(fields.account === undefined ? {} : { account: fields.account }),
    api_version: fields.apiVersion,
    data: { object: { id: fields.objectId, object: fields.objectKind } },
  });
}

/**
 * Encodes a verified event for the queue in the first form that fits `maxMessageBytes`: the JSON
 * (escaped where SQS needs it), else gzip+base64, else, when `canSlim`, the slimmed envelope.
 * Resolves undefined when none fits.
 */
export async function encodeEventMessage(input: EncodeInput): Promise<EncodedMessage | undefined> {
  const base: Record<string, string> = {
    [ATTRIBUTE.eventId]: input.envelope.id,
    [ATTRIBUTE.eventType]: input.envelope.type,
    [ATTRIBUTE.correlationId]: input.correlationId,
    ...input.traceAttributes,
  };
  const baseBytes = attributeBytes(base);
  // JSON that parsed holds raw control characters only as whitespace between tokens (RFC 8259 §2,
  // §7), all of which SQS accepts: an all-ASCII body needs no scan.
  const body = isAscii(input.raw) ? input.json : escapeForQueue(input.json);
  const bodyBytes = body === input.json ? input.raw.length : Buffer.byteLength(body);
  if (bodyBytes + baseBytes <= input.maxMessageBytes)
    return { body, attributes: base, sizeBytes: bodyBytes + baseBytes, format: undefined };

  const withFormat = (format: BodyFormat, encoded: string): EncodedMessage => {
    const attributes = { ...base, [ATTRIBUTE.bodyFormat]: format };
    return { body: encoded, attributes, sizeBytes: encoded.length + attributeBytes(attributes), format };
  };
  const compressed = withFormat("gzip-base64", (await gzipAsync(input.raw)).toString("base64"));
  if (compressed.sizeBytes <= input.maxMessageBytes) return compressed;
  if (!input.canSlim) return undefined;
  const slim = withFormat("slim-envelope", escapeForQueue(slimEnvelope(input.envelope)));
  slim.sizeBytes = Buffer.byteLength(slim.body) + attributeBytes(slim.attributes);
  return slim.sizeBytes <= input.maxMessageBytes ? slim : undefined;
}

/** Largest event JSON the worker inflates from a compressed body (a guard against a foreign message). */
const MAX_INFLATED_BYTES = 64 * 1024 * 1024;

/** A message body read back: the event JSON, and whether `data.object` must be re-read from Stripe. */
export type DecodedMessage = { json: string; needsObject: boolean } | { problem: string };

/** Reads a message body back into the event JSON, by its `body_format` attribute. Never throws. */
export function decodeEventMessage(body: string | undefined, format: string | undefined): DecodedMessage {
  if (body === undefined || body === "") return { problem: "empty body" };
  switch (format) {
    case undefined:
      return { json: body, needsObject: false };
    case "slim-envelope":
      return { json: body, needsObject: true };
    case "gzip-base64":
      try {
        const inflated = gunzipSync(Buffer.from(body, "base64"), { maxOutputLength: MAX_INFLATED_BYTES });
        return { json: inflated.toString("utf8"), needsObject: false };
      } catch (error) {
        return {
          problem: `body_format gzip-base64 but the body does not inflate: ${(error as Error).message}`,
        };
      }
    default:
      return { problem: `unknown body_format ${JSON.stringify(format)}` };
  }
}
