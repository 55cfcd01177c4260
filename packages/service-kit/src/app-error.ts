/** Extra facts about an {@link AppError}. */
export interface AppErrorOptions {
  /**
   * The process can no longer be trusted (e.g. lost a resource it cannot reacquire) and should
   * stop. kitPlugin logs such an error at `fatal`; one that escapes uncaught makes runServer close
   * the app and exit with code 1.
   */
  isCatastrophic?: boolean;
  /** Sent to the caller in the error body's `details`; must not hold secrets. */
  details?: unknown;
  cause?: unknown;
}

/**
 * The one application error: a stable machine code, the HTTP status it maps to, and whether the
 * process should die. kitPlugin turns it into `{ error: code, message, details? }` with that status.
 */
export class AppError extends Error {
  override readonly name = 'AppError';
  readonly isCatastrophic: boolean;
  readonly details: unknown;

  constructor(
    readonly code: string,
    message: string,
    readonly statusCode: number = 500,
    options: AppErrorOptions = {},
  ) {
    super(message, { cause: options.cause });
    this.isCatastrophic = options.isCatastrophic ?? false;
    this.details = options.details;
  }
}
