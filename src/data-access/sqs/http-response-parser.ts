/** A whole HTTP/1.1 answer. */
export interface HttpAnswer {
  status: number;
  body: Buffer;
  /** The server's `Date` header, when it sent one (to correct a skewed clock). */
  date: string | undefined;
}

/** A parsed answer, and whether its connection can carry the next request. */
export interface ParsedAnswer {
  answer: HttpAnswer;
  canReuse: boolean;
}

/** The peer sent something that is not an HTTP/1.1 answer. */
export class MalformedAnswerError extends Error {}

const HEAD_END = Buffer.from("\r\n\r\n");
const LINE_END = Buffer.from("\r\n");
/** Bound on an answer's head, and on a whole answer (SendMessageBatch answers take a few KiB). */
const MAX_HEAD_BYTES = 64 * 1024;
const MAX_ANSWER_BYTES = 16 * 1024 * 1024;

interface Head {
  status: number;
  date: string | undefined;
  bodyStart: number;
  contentLength: number | undefined;
  isChunked: boolean;
  isKeepAlive: boolean;
}

/**
 * Reads one HTTP/1.1 answer from the bytes of a connection, as they arrive: a head, then a body
 * framed by Content-Length, by chunked transfer coding, or by the connection's end
 * (RFC 9112 §6.3). Interim 1xx answers are skipped.
 */
export class HttpResponseParser {
  private buffer: Buffer = Buffer.alloc(0);
  private head: Head | undefined;

  /** Feeds bytes; returns the answer once it is whole. Throws MalformedAnswerError. */
  push(chunk: Buffer): ParsedAnswer | undefined {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    if (this.buffer.length > MAX_ANSWER_BYTES) throw new MalformedAnswerError("the answer is too large");
    while (this.head === undefined) {
      const head = this.readHead();
      if (!head) return undefined;
      if (head.status >= 200) this.head = head;
      else this.buffer = this.buffer.subarray(head.bodyStart);
    }
    return this.readBody(this.head);
  }

  /** The connection ended: the answer when its end was the body's end, else undefined. */
  end(): ParsedAnswer | undefined {
    const head = this.head;
    if (!head || head.isChunked || head.contentLength !== undefined) return undefined;
    return {
      answer: { status: head.status, body: this.buffer.subarray(head.bodyStart), date: head.date },
      canReuse: false,
    };
  }

  private readHead(): Head | undefined {
    const end = this.buffer.indexOf(HEAD_END);
    if (end < 0) {
      if (this.buffer.length > MAX_HEAD_BYTES)
        throw new MalformedAnswerError("the answer's head is too large");
      return undefined;
    }
    const [statusLine = "", ...lines] = this.buffer.toString("latin1", 0, end).split("\r\n");
    const match = /^HTTP\/1\.([01]) (\d{3})/.exec(statusLine);
    if (!match) throw new MalformedAnswerError(`not an HTTP/1.1 status line: ${statusLine.slice(0, 80)}`);
    let contentLength: number | undefined;
    let transferEncoding: string | undefined;
    let connection = "";
    let date: string | undefined;
    for (const line of lines) {
      const colon = line.indexOf(":");
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === "content-length") {
        if (!/^\d+$/.test(value) || (contentLength !== undefined && contentLength !== Number(value)))
          throw new MalformedAnswerError(`bad or conflicting Content-Length: ${value}`);
        contentLength = Number(value);
      } else if (name === "transfer-encoding")
        transferEncoding = transferEncoding === undefined ? value : `${transferEncoding}, ${value}`;
      else if (name === "connection") connection = `${connection} ${value.toLowerCase()}`;
      else if (name === "date") date = value;
    }
    // RFC 9112 §6.3: chunked as the last coding frames the body; any other coding, by the close.
    const isChunked = transferEncoding !== undefined && /(^|,)\s*chunked\s*$/i.test(transferEncoding);
    const isFramedByClose = transferEncoding !== undefined && !isChunked;
    const status = Number(match[2]);
    const isHttp11 = match[1] === "1";
    const hasNoBody = status === 204 || status === 304 || (status >= 100 && status < 200);
    return {
      status,
      date,
      bodyStart: end + HEAD_END.length,
      contentLength: hasNoBody ? 0 : isChunked || isFramedByClose ? undefined : contentLength,
      isChunked: !hasNoBody && isChunked,
      isKeepAlive:
        !isFramedByClose && (isHttp11 ? !/\bclose\b/.test(connection) : /\bkeep-alive\b/.test(connection)),
    };
  }

  private readBody(head: Head): ParsedAnswer | undefined {
    if (head.isChunked) return this.readChunked(head);
    if (head.contentLength === undefined) return undefined; // framed by the connection's end
    const end = head.bodyStart + head.contentLength;
    if (this.buffer.length < end) return undefined;
    return this.finish(head, this.buffer.subarray(head.bodyStart, end), end);
  }

  private readChunked(head: Head): ParsedAnswer | undefined {
    const parts: Buffer[] = [];
    let at = head.bodyStart;
    for (;;) {
      const lineEnd = this.buffer.indexOf(LINE_END, at);
      if (lineEnd < 0) return undefined;
      const sizeText = this.buffer.toString("latin1", at, lineEnd).split(";")[0]!.trim();
      if (!/^[0-9a-fA-F]+$/.test(sizeText)) throw new MalformedAnswerError(`bad chunk size: ${sizeText}`);
      const size = parseInt(sizeText, 16);
      at = lineEnd + LINE_END.length;
      if (size === 0) {
        // Trailer fields, if any, end with an empty line.
        if (this.buffer.length < at + LINE_END.length) return undefined;
        if (this.buffer[at] === 0x0d && this.buffer[at + 1] === 0x0a)
          return this.finish(head, Buffer.concat(parts), at + LINE_END.length);
        const trailersEnd = this.buffer.indexOf(HEAD_END, at);
        if (trailersEnd < 0) return undefined;
        return this.finish(head, Buffer.concat(parts), trailersEnd + HEAD_END.length);
      }
      if (this.buffer.length < at + size + LINE_END.length) return undefined;
      if (this.buffer[at + size] !== 0x0d || this.buffer[at + size + 1] !== 0x0a)
        throw new MalformedAnswerError("a chunk does not end with CRLF");
      parts.push(this.buffer.subarray(at, at + size));
      at += size + LINE_END.length;
    }
  }

  private finish(head: Head, body: Buffer, end: number): ParsedAnswer {
    // Bytes after the answer were never asked for: the connection is not reused.
    const canReuse = head.isKeepAlive && this.buffer.length === end;
    return { answer: { status: head.status, body, date: head.date }, canReuse };
  }
}
