/** Quotes a value for a POSIX shell command line people can paste. */
export function shellQuote(text: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

/** The curl line that sends the same request. */
export function curlLine(url: string, headers: Readonly<Record<string, string>>): string {
  const flags = Object.entries(headers).map(([name, value]) => `-H ${shellQuote(`${name}: ${value}`)}`);
  return ["curl -s", ...flags, url].join(" ");
}
