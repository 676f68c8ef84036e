/** RFC 3339 in UTC with second precision, as Go's time.RFC3339 prints a UTC time (X.509 times carry no fraction). */
export function rfc3339Utc(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
