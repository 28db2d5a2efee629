/**
 * The one error class detour throws. `code` is stable (match on it, not on the message);
 * the message says what was wrong and what to do. Thrown only at startup, config or
 * explicit strict-mode calls, never on a request path.
 */
export class DetourError extends Error {
  override readonly name = "DetourError";
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
