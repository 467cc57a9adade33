/**
 * What a caught value says, as text for an event, a warning or a reply: the
 * message of an Error, the string of anything else thrown. Pure.
 */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
