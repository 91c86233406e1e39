/**
 * One error class for everything the harness itself refuses or cannot do.
 *
 * An expected handshake failure is *data* (a Leg in the report), never a HarnessError:
 * these are for bad input, misconfiguration and harness bugs. Callers match on `code`.
 */

/** Every code, with what it means and whether it is the user's input (exit status 2). */
export const ERROR_CODES = {
  FTH_USAGE: { input: true, summary: 'bad command-line usage (unknown flag, missing or invalid value)' },
  FTH_CONFIG_VALUE: { input: true, summary: 'a setting has a value outside its allowed set' },
  FTH_OPTION_INVALID: { input: true, summary: 'a library option is missing or has a value outside its allowed set' },
  FTH_CLOSED: { input: true, summary: 'a fake component was used after close()' },
  FTH_FILE_UNREADABLE: { input: true, summary: 'a file cannot be read' },
  FTH_FILE_UNWRITABLE: { input: true, summary: 'a file or directory cannot be written' },
  FTH_FILE_MALFORMED: { input: true, summary: 'a file does not hold what its flag expects (PEM, certificate, key)' },
  FTH_KEY_PASSPHRASE: { input: true, summary: 'an encrypted private key cannot be decrypted with the passphrase given' },
  FTH_KEY_MISMATCH: { input: true, summary: 'a private key does not belong to its certificate' },
  FTH_PORT_IN_USE: { input: true, summary: 'a port the harness must listen on is already taken' },
  FTH_PKI_FOREIGN_FILE: { input: true, summary: 'a file in the PKI directory was not written by the harness; refusing to overwrite it' },
  FTH_SCENARIO_SCHEMA: { input: true, summary: 'a scenario file is malformed' },
  FTH_SCENARIO_UNKNOWN: { input: true, summary: 'no scenario has that id' },
  FTH_LISTEN_FAILED: { input: true, summary: 'a fake component could not listen on its address' },
  FTH_TARGET_UNREACHABLE: { input: true, summary: 'the URL given cannot be connected to' },
  FTH_WIRE_UNSUPPORTED: { input: false, summary: 'the negotiated TLS parameters do not allow the emulation the scenario needs' },
  FTH_WIRE_PROTOCOL: { input: false, summary: 'a TLS record or handshake message could not be parsed' },
  FTH_INTERNAL: { input: false, summary: 'a harness bug' },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class HarnessError extends Error {
  override readonly name = 'HarnessError';
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }

  /** Whether the user's input caused it: the CLI exits 2 for these. */
  get isInputError(): boolean {
    return ERROR_CODES[this.code].input;
  }

  /** The one line the CLI prints. */
  get shortMessage(): string {
    return `${this.code}: ${this.message}`;
  }
}

export function isHarnessError(value: unknown, code?: ErrorCode): value is HarnessError {
  return value instanceof HarnessError && (code === undefined || value.code === code);
}

/** Node's system errors carry a string `code`; this reads it without trusting the shape. */
export function systemErrorCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = (error as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

/** Commander's message on one line: its suggestion moves into parentheses after the error. */
export function oneLine(commanderMessage: string): string {
  return commanderMessage
    .replace(/^error: /, '')
    .replace(/\n\(Did you mean (.*)\?\)/, ' (did you mean $1?)')
    .replace(/\s*\n\s*/g, ' ')
    .trim();
}
