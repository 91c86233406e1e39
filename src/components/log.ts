import { EventEmitter } from 'node:events';

/** The level a component wrote a line at. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** One line a fake component wrote. */
export interface LogEntry {
  readonly at: Date;
  readonly component: string;
  readonly level: LogLevel;
  /** The line as the real component would write it (its words, without the timestamp). */
  readonly message: string;
  readonly fields?: Readonly<Record<string, unknown>>;
}

/**
 * A component's log: kept in memory for the report, and streamed to whoever listens
 * (`serve` prints it; tests read it).
 */
export class ComponentLog extends EventEmitter<{ entry: [LogEntry] }> {
  readonly entries: LogEntry[] = [];
  private static readonly LIMIT = 10_000;

  constructor(readonly component: string) {
    super();
  }

  /** Appends a line (kept in memory, trimmed past ten thousand) and emits `entry`. */
  write(level: LogLevel, message: string, fields?: Record<string, unknown>): LogEntry {
    const entry: LogEntry = { at: new Date(), component: this.component, level, message, ...(fields ? { fields } : {}) };
    this.entries.push(entry);
    // Trimmed in batches: shifting ten thousand entries on every write under load cost more than the write.
    if (this.entries.length > ComponentLog.LIMIT * 1.5) this.entries.splice(0, this.entries.length - ComponentLog.LIMIT);
    this.emit('entry', entry);
    return entry;
  }

  /** A warning that libs logs once per configuration, however many connections repeat it. */
  warnOnce(message: string): void {
    if (!this.entries.some((entry) => entry.level === 'warn' && entry.message === message)) this.write('warn', message);
  }

  /** Entries whose message contains `text` (tests and the explain command look lines up this way). */
  find(text: string): LogEntry[] {
    return this.entries.filter((entry) => entry.message.includes(text));
  }
}
