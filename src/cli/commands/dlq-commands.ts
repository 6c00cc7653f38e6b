import { InvalidArgumentError, type Command } from "commander";
import type { Message } from "@aws-sdk/client-sqs";
import {
  describeDeadLetter,
  moveToQueue,
  releaseMessages,
  scanQueue,
  type DeadLetter,
} from "../../data-access/sqs/dead-letter-queue.js";
import type { CommandContext } from "../command-context.js";
import type { Reporter } from "../reporter.js";
import type { OperationRunner } from "../run-cli.js";

/** Parses a positive integer option. */
export function positiveInteger(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw new InvalidArgumentError("must be a positive integer");
  return number;
}

/** A dead letter without its message, for output. */
function itemOf(letter: DeadLetter): Record<string, unknown> {
  const { message: _message, ...item } = letter;
  return item;
}

function humanLine(letter: DeadLetter): string {
  const what = [letter.eventType ?? "?", letter.eventId ?? "(no event id)"].join(" ");
  return `${letter.messageId}  ${what}  reason=${letter.reason}  receives=${letter.receiveCount}${letter.detail ? `\n    ${letter.detail}` : ""}`;
}

/** Scans the dead-letter queue, hands each dead letter to `visit`, and makes every one visible again. */
async function visitDeadLetters(
  context: CommandContext,
  options: { limit?: number },
  visit: (letter: DeadLetter) => boolean | void,
): Promise<void> {
  const { sqs } = context.queue();
  const dlqUrl = await context.dlqUrl();
  const seen = await scanQueue(sqs, dlqUrl, {
    holdSeconds: 30,
    ...(options.limit === undefined ? {} : { limit: options.limit }),
    signal: context.signal,
    onBatch: async (messages) => messages.map(describeDeadLetter).every((letter) => visit(letter) !== false),
  });
  await releaseMessages(sqs, dlqUrl, seen);
}

async function listDeadLetters(context: CommandContext, reporter: Reporter, limit: number): Promise<boolean> {
  const reasons: Record<string, number> = {};
  let count = 0;
  await visitDeadLetters(context, { limit }, (letter) => {
    count += 1;
    reasons[letter.reason] = (reasons[letter.reason] ?? 0) + 1;
    reporter.item("dead_letter", itemOf(letter), humanLine(letter));
  });
  reporter.summary({
    deadLetters: count,
    byReason: reasons,
    ...(count >= limit ? { limitReached: limit } : {}),
  });
  return true;
}

async function showDeadLetter(
  context: CommandContext,
  reporter: Reporter,
  id: string,
  withBody: boolean,
): Promise<boolean> {
  let found: DeadLetter | undefined;
  await visitDeadLetters(context, {}, (letter) => {
    if (letter.messageId !== id && letter.eventId !== id) return true;
    found = letter;
    return false;
  });
  if (!found) {
    reporter.item("not_found", { id }, `no dead letter with message or event id ${id}`);
    return false;
  }
  const attributes = Object.fromEntries(
    Object.entries(found.message.MessageAttributes ?? {}).map(([name, value]) => [name, value.StringValue]),
  );
  const body = withBody ? { body: found.message.Body } : {};
  const item = { ...itemOf(found), attributes, ...body };
  const text = [
    humanLine(found),
    ...Object.entries(attributes).map(([name, value]) => `    ${name}: ${value}`),
  ];
  if (withBody) text.push(`    body: ${found.message.Body ?? ""}`);
  reporter.item("dead_letter", item, text.join("\n"));
  return true;
}

async function redrive(
  context: CommandContext,
  reporter: Reporter,
  options: { reason?: string; limit?: number; dryRun?: boolean; visibilityTimeout: number },
): Promise<boolean> {
  const { sqs, queueUrl } = context.queue();
  const dlqUrl = await context.dlqUrl();
  const toRelease: Message[] = [];
  let moved = 0;
  let skipped = 0;
  let refused = 0;
  const progress = reporter.progress(options.dryRun ? "redrive (dry run)" : "redrive", "messages");
  await scanQueue(sqs, dlqUrl, {
    holdSeconds: options.visibilityTimeout,
    signal: context.signal,
    onBatch: async (messages) => {
      const letters = messages.map(describeDeadLetter);
      const wanted = letters.filter(
        (letter) => options.reason === undefined || letter.reason === options.reason,
      );
      const room = options.limit === undefined ? wanted.length : Math.max(0, options.limit - moved);
      const chosen = wanted.slice(0, room);
      const others = letters.filter((letter) => !chosen.includes(letter));
      skipped += others.length;
      toRelease.push(...others.map((letter) => letter.message));
      if (options.dryRun) {
        for (const letter of chosen)
          reporter.item("would_redrive", itemOf(letter), `would redrive ${humanLine(letter)}`);
        toRelease.push(...chosen.map((letter) => letter.message));
        moved += chosen.length;
      } else if (chosen.length > 0) {
        const result = await moveToQueue(
          sqs,
          dlqUrl,
          queueUrl,
          chosen.map((letter) => letter.message),
        );
        for (const message of result.moved) {
          const letter = describeDeadLetter(message);
          reporter.item("redriven", itemOf(letter), `redriven ${letter.messageId} ${letter.eventId ?? ""}`);
        }
        for (const { message, error } of result.refused) {
          reporter.item(
            "refused",
            { messageId: message.MessageId, error },
            `the queue refused ${message.MessageId}: ${error}`,
          );
          toRelease.push(message);
        }
        moved += result.moved.length;
        refused += result.refused.length;
      }
      progress.update(moved);
      return options.limit === undefined || moved < options.limit;
    },
  });
  progress.stop();
  await releaseMessages(sqs, dlqUrl, toRelease);
  reporter.summary({
    [options.dryRun ? "wouldRedrive" : "redriven"]: moved,
    leftOnDeadLetterQueue: skipped + refused,
    refusedByQueue: refused,
    ...(context.signal.aborted ? { interrupted: true } : {}),
  });
  return refused === 0 && !context.signal.aborted;
}

/** `dlq list|show|redrive`: dead letters read, explained and moved back on any SQS-compatible server. */
export function registerDlqCommands(program: Command, run: OperationRunner): void {
  const dlq = program
    .command("dlq")
    .description("list, explain and move back dead letters (works on any SQS-compatible server)");
  dlq
    .command("list")
    .description("list dead letters: reason, detail, receive count, event type and id")
    .option("--limit <n>", "list at most this many", positiveInteger, 100)
    .action((options: { limit: number }) =>
      run("dlq list", (context, reporter) => listDeadLetters(context, reporter, options.limit)),
    );
  dlq
    .command("show")
    .description("one dead letter with all its attributes")
    .argument("<id>", "an event id (evt_...) or an SQS message id")
    .option("--body", "print the message body too (it may hold personal data)")
    .action((id: string, options: { body?: boolean }) =>
      run("dlq show", (context, reporter) => showDeadLetter(context, reporter, id, options.body === true)),
    );
  dlq
    .command("redrive")
    .description(
      "move dead letters back to the main queue: each is deleted from the dead-letter queue only after the main queue accepted it; its attributes are kept, the dlq_* ones dropped",
    )
    .option(
      "--reason <code>",
      "only dead letters with this dlq_reason (redrive_policy: those the queue moved itself)",
    )
    .option("--limit <n>", "move at most this many", positiveInteger)
    .option("--dry-run", "list what would move, move nothing")
    .option(
      "--visibility-timeout <seconds>",
      "how long each message is hidden while it is moved",
      positiveInteger,
      120,
    )
    .action((options: { reason?: string; limit?: number; dryRun?: boolean; visibilityTimeout: number }) =>
      run("dlq redrive", (context, reporter) => redrive(context, reporter, options)),
    );
}
