import { formatExpires, parseWarnDuration, residualSeconds, shortHumanDuration } from '../../src/expiry/format';

const DAY = 86_400;

describe("kubeadm's expiry formats", () => {
  test("EXPIRES is Go's `Jan 02, 2006 15:04 MST` in UTC, minutes truncated", () => {
    expect(formatExpires(new Date('2027-12-01T22:00:59Z'))).toBe('Dec 01, 2027 22:00 UTC');
    expect(formatExpires(new Date('2026-08-19T09:03:00Z'))).toBe('Aug 19, 2026 09:03 UTC');
    expect(formatExpires(new Date('2051-01-09T00:00:00Z'))).toBe('Jan 09, 2051 00:00 UTC');
  });

  // apimachinery's duration.ShortHumanDuration, case by case at each boundary of its source.
  test.each([
    [-2, '<invalid>'],
    [-36 * DAY, '<invalid>'],
    [-1, '0s'],
    [0, '0s'],
    [59, '59s'],
    [60, '1m'],
    [3599, '59m'],
    [3600, '1h'],
    [DAY - 1, '23h'],
    [DAY, '1d'],
    [10 * DAY - 300, '9d'],
    [365 * DAY - 1, '364d'],
    [365 * DAY, '1y'],
    [730 * DAY - 1, '1y'],
    [3650 * DAY - 300, '9y'],
  ])('%d s is %s', (seconds, text) => {
    expect(shortHumanDuration(seconds)).toBe(text);
  });

  test('residual time truncates toward zero, as Go converts a Duration to seconds', () => {
    const notAfter = new Date('2027-01-01T00:00:00Z');
    expect(residualSeconds(notAfter, new Date('2026-12-31T23:59:58.500Z'))).toBe(1);
    expect(residualSeconds(notAfter, new Date('2027-01-01T00:00:01.500Z'))).toBe(-1);
  });

  test('--warn takes Go durations and days', () => {
    expect(parseWarnDuration('30d', '--warn')).toBe(30 * DAY);
    expect(parseWarnDuration('720h', '--warn')).toBe(30 * DAY);
    expect(parseWarnDuration('1d12h', '--warn')).toBe(1.5 * DAY);
    expect(parseWarnDuration('90m', '--warn')).toBe(5400);
    expect(parseWarnDuration('0', '--warn')).toBe(0);
    for (const bad of ['30', '-5d', '-1h', '1d-2h', 'd', '30days', '']) {
      expect(() => parseWarnDuration(bad, '--warn')).toThrow(`--warn: "${bad}" is not a duration such as "30d", "720h" or "1d12h"`);
    }
  });
});
