import { diag } from "@opentelemetry/api";

/** The part of a pino-style logger the messaging wrappers use (pino's `logger` fits as is). */
export interface MessagingLogger {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/** OpenTelemetry's `diag`: silent unless the application enabled it (libraries never use console). */
export const diagLogger: MessagingLogger = {
  debug: (fields, message) => diag.debug(message, fields),
  info: (fields, message) => diag.info(message, fields),
  warn: (fields, message) => diag.warn(message, fields),
  error: (fields, message) => diag.error(message, fields),
};
