/** A Kubernetes MicroTime (Lease renewTime, Event eventTime): RFC 3339 with six fractional digits. */
export function microTime(millis: number): string {
  return new Date(millis).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}
