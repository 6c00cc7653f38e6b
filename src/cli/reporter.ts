import cliProgress from "cli-progress";

/** Where a command writes: its streams and whether a person watches a terminal. */
export interface CliIo {
  env: NodeJS.ProcessEnv;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** True when stdout is a terminal: a progress bar and tables instead of JSON lines. */
  isTTY: boolean;
  /**
   * Traps SIGINT/SIGTERM for one operations command: the signal aborts, so long commands stop at
   * the next safe point and keep their checkpoint; `release` puts the default handling back.
   */
  interrupts?: () => { signal: AbortSignal; release(): void };
}

/** Progress of one phase: `update` with the count done so far, `stop` at its end. */
export interface Progress {
  update(done: number, extra?: Record<string, unknown>): void;
  setTotal(total: number): void;
  stop(): void;
}

/** Least time between two JSON progress lines, ms. */
const PROGRESS_LINE_INTERVAL_MS = 1000;

/**
 * What a command prints. On a terminal: human lines, a progress bar on stderr and a summary table.
 * Otherwise (or with `--json`): one JSON object per line on stdout, each with a `type`
 * (`progress`, `summary`, or the command's own item types), so a script or a log pipeline reads
 * them one by one.
 */
export class Reporter {
  constructor(
    private readonly io: CliIo,
    /** True for JSON lines. */
    readonly isJson: boolean,
    private readonly command: string,
  ) {}

  /** One JSON line (JSON mode only). */
  private line(type: string, data: Record<string, unknown>): void {
    this.io.stdout.write(`${JSON.stringify({ type, command: this.command, ...data })}\n`);
  }

  /** A line for a person; in JSON mode an `info` line. */
  info(text: string, data: Record<string, unknown> = {}): void {
    if (this.isJson) this.line("info", { message: text, ...data });
    else this.io.stdout.write(`${text}\n`);
  }

  /** A warning: stderr for a person, a `warning` line in JSON mode. */
  warn(text: string, data: Record<string, unknown> = {}): void {
    if (this.isJson) this.line("warning", { message: text, ...data });
    else this.io.stderr.write(`warning: ${text}\n`);
  }

  /** One result item (a dead letter, a drift, a check): `human` for a person, `data` as a JSON line of `type`. */
  item(type: string, data: Record<string, unknown>, human: string): void {
    if (this.isJson) this.line(type, data);
    else this.io.stdout.write(`${human}\n`);
  }

  /** Rows as an aligned table (a person) or one JSON line of `type` per row. */
  table(type: string, headers: string[], rows: Record<string, unknown>[]): void {
    if (this.isJson) {
      for (const row of rows) this.line(type, row);
      return;
    }
    const cells = rows.map((row) => headers.map((header) => String(row[header] ?? "")));
    const widths = headers.map((header, i) =>
      Math.max(header.length, ...cells.map((row) => (row[i] ?? "").length)),
    );
    const format = (row: string[]) =>
      row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join("  ")
        .trimEnd();
    this.io.stdout.write(
      `${[format(headers), format(widths.map((w) => "-".repeat(w))), ...cells.map(format)].join("\n")}\n`,
    );
  }

  /** The summary at the end: `key: value` lines for a person, one `summary` JSON line. */
  summary(data: Record<string, unknown>): void {
    if (this.isJson) {
      this.line("summary", data);
      return;
    }
    const width = Math.max(...Object.keys(data).map((key) => key.length));
    const text = Object.entries(data)
      .map(
        ([key, value]) =>
          `${key.padEnd(width)}  ${typeof value === "object" && value !== null ? JSON.stringify(value) : String(value)}`,
      )
      .join("\n");
    this.io.stdout.write(`\n${text}\n`);
  }

  /** A progress bar on stderr (terminal), or `progress` JSON lines at most once a second and at the end. */
  progress(phase: string, unit: string, total?: number): Progress {
    if (!this.isJson) {
      const bar = new cliProgress.SingleBar(
        {
          stream: this.io.stderr,
          format:
            total === undefined
              ? `${phase} {value} ${unit} | {rate}/s`
              : `${phase} [{bar}] {value}/{total} ${unit} | {rate}/s | eta {eta_formatted}`,
          hideCursor: true,
          clearOnComplete: false,
          etaBuffer: 50,
        },
        cliProgress.Presets.shades_classic,
      );
      const startedAt = Date.now();
      const rate = (done: number) => Math.round(done / Math.max(0.001, (Date.now() - startedAt) / 1000));
      bar.start(total ?? 0, 0, { rate: 0 });
      return {
        update: (done) => bar.update(done, { rate: rate(done) }),
        setTotal: (value) => bar.setTotal(value),
        stop: () => bar.stop(),
      };
    }
    let lastAt = 0;
    let last: { done: number; extra?: Record<string, unknown> } = { done: 0 };
    let knownTotal = total;
    const emit = () =>
      this.line("progress", {
        phase,
        unit,
        done: last.done,
        ...(knownTotal === undefined ? {} : { total: knownTotal }),
        ...last.extra,
      });
    return {
      update: (done, extra) => {
        last = { done, ...(extra ? { extra } : {}) };
        if (Date.now() - lastAt < PROGRESS_LINE_INTERVAL_MS) return;
        lastAt = Date.now();
        emit();
      },
      setTotal: (value) => void (knownTotal = value),
      stop: () => emit(),
    };
  }
}
