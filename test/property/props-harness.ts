// The property every construct family must have: a generated prop value is either accepted because it is valid
// (judged by an oracle that is not the engine: WHATWG URL, node:net, node's X509Certificate) or refused with a
// SpecError naming the prop as the user wrote it; nothing escapes as another exception, and a refusal leaves the
// state as it was.
import * as net from 'node:net';
import { Chart, Duration, Testing } from 'cdk8s';
import fc from 'fast-check';
import { PkiState, SpecError, usePkiState } from '../../constructs';

export const NOW = new Date('2026-01-15T09:00:00Z');
/** The chart every family builds in: errors are located at `test/<id>`. */
export const CHART = 'test';

/** One generated value of a prop and whether the oracle finds it valid. */
export interface Judged<T> {
  readonly value: T;
  readonly valid: boolean;
}

/** The props of one case, and the field the error must name when a value in them is invalid. */
export interface PropCase<P> {
  readonly props: P;
  /** The field as the user wrote it (`dnsNames[2]`, `country`); undefined: every value is valid. */
  readonly refused?: string;
}

/** Fields of the engine's spec, which a message about a prop must never show. */
const ENGINE_FIELDS = /(^|\.)(sans|subject|validitySeconds|spec)(\.|\[|$)/;

function stateSnapshot(state: PkiState): Record<string, string> {
  return Object.fromEntries(state.store.list().map((name) => [name, state.store.read(name)!.toString('base64')]));
}

/**
 * Runs `build` in a fresh app (fixed clock, in-memory state) per case. `setup` makes what the props refer to (a CA);
 * its state is committed before the case, so the state of a refused case can be compared with it.
 */
export function checkFamily<P, F, R>(options: {
  readonly cases: fc.Arbitrary<PropCase<P>>;
  readonly setup: (chart: Chart, state: PkiState) => F;
  readonly build: (chart: Chart, props: P, fixture: F) => R;
  /** The oracle's checks of an accepted case's output. */
  readonly verify?: (result: R, props: P, fixture: F) => void;
  readonly numRuns: number;
}): void {
  fc.assert(
    fc.property(options.cases, ({ props, refused }) => {
      const app = Testing.app();
      const state = usePkiState(app, PkiState.inMemory({ clock: () => NOW, seed: 'props' }));
      const chart = new Chart(app, CHART);
      const fixture = options.setup(chart, state);
      state.commit();
      const before = stateSnapshot(state);
      let result: R;
      try {
        result = options.build(chart, props, fixture);
      } catch (err) {
        if (!(err instanceof SpecError)) throw new Error(`escaped as ${(err as Error)?.constructor?.name}: ${(err as Error)?.stack ?? String(err)}`);
        if (refused === undefined) throw new Error(`refused valid props: ${err.message}`);
        const named = err.each.find((e) => e.field === refused || e.field.startsWith(`${refused}.`) || e.field.startsWith(`${refused}[`));
        if (!named) throw new Error(`the error does not name ${refused}: ${err.message}`);
        expect(named.where).toMatch(new RegExp(`^${CHART}/`));
        for (const e of err.each) expect(e.field).not.toMatch(ENGINE_FIELDS);
        state.commit();
        expect(stateSnapshot(state)).toEqual(before);
        return;
      }
      if (refused !== undefined) throw new Error(`accepted ${refused}, which the oracle refuses: ${JSON.stringify(props, replacer)}`);
      options.verify?.(result, props, fixture);
    }),
    { numRuns: options.numRuns },
  );
}

function replacer(_key: string, value: unknown): unknown {
  return value instanceof Duration ? `Duration(${value.toMilliseconds({ integral: false })} ms)` : value;
}

/**
 * Props built from valid values, with at most one prop (or one element of a list prop) replaced by a value of
 * `wild`, which the oracle judges: the case expects that prop's field in the error when the value is invalid.
 */
export function mutate<P extends object>(valid: fc.Arbitrary<P>, wild: { readonly [K in keyof P]?: fc.Arbitrary<Judged<unknown>> }, extra: fc.Arbitrary<Judged<[string, unknown]>> = unknownProp): fc.Arbitrary<PropCase<P>> {
  const keys = Object.keys(wild) as (keyof P & string)[];
  return fc.oneof(
    { weight: 1, arbitrary: valid.map((props) => ({ props })) },
    {
      weight: 4,
      arbitrary: fc.tuple(valid, fc.constantFrom(...keys)).chain(([props, key]) =>
        (wild[key] as fc.Arbitrary<Judged<unknown>>).map(({ value, valid: ok }) => ({ props: { ...props, [key]: value }, refused: ok ? undefined : key })),
      ),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(valid, extra).map(([props, { value: [key, value], valid: ok }]) => ({ props: { ...props, [key]: value }, refused: ok ? undefined : key })),
    },
  );
}

/** A list prop with one element replaced by a judged value; the case names `field[i]` when it is invalid. */
export function listWith<T>(valid: fc.Arbitrary<T>, wild: fc.Arbitrary<Judged<unknown>>): fc.Arbitrary<Judged<unknown[]> & { index: number }> {
  return fc.tuple(fc.array(valid, { maxLength: 3 }), wild, fc.array(valid, { maxLength: 2 })).map(([before, item, after]) => ({
    value: [...before, item.value, ...after],
    valid: item.valid,
    index: before.length,
  }));
}

/** `mutate` for list props: the refused field is `key[index]`. */
export function mutateList<P extends object>(valid: fc.Arbitrary<P>, key: keyof P & string, list: fc.Arbitrary<Judged<unknown[]> & { index: number }>): fc.Arbitrary<PropCase<P>> {
  return fc.tuple(valid, list).map(([props, { value, valid: ok, index }]) => ({ props: { ...props, [key]: value }, refused: ok ? undefined : `${key}[${index}]` }));
}

/** A misspelled or unknown prop, as JavaScript or JSON would pass it: always refused. */
export const unknownProp: fc.Arbitrary<Judged<[string, unknown]>> = fc
  .tuple(fc.constantFrom('commonNmae', 'dnsName', 'ipAdresses', 'validty', 'foo', 'nodes', 'Hostname'), fc.oneof(fc.string(), fc.integer()))
  .map(([key, value]) => ({ value: [key, value], valid: false }));

// ---------------------------------------------------------------------------------------------
// Oracles: none of them calls the engine.

/** A DNS SAN: lower-case LDH labels of 1–63 characters (RFC 1123), at most 253 in all, optionally behind "*.", that the WHATWG host parser keeps as it is and does not read as an IPv4 address. */
export function isValidDnsName(value: unknown): boolean {
  if (typeof value !== 'string' || value.length > 253) return false;
  const name = value.startsWith('*.') ? value.slice(2) : value;
  const ldh = name.split('.').every((label) => /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(label));
  return ldh && URL.canParse(`http://${name}/`) && new URL(`http://${name}/`).hostname === name && net.isIP(name) === 0;
}

/** An IP literal node:net accepts, without a zone. */
export function isValidIp(value: unknown): boolean {
  return typeof value === 'string' && net.isIP(value) !== 0 && !value.includes('%');
}

/** A subject value: a string, not blank, no C0/C1 control character or lone surrogate, at most `max` code points. */
export function isValidSubjectText(value: unknown, max: number): boolean {
  return typeof value === 'string' && /\S/.test(value) && !/[\u0000-\u001f\u007f-\u009f]/.test(value) && !/\p{Cs}/u.test(value) && [...value].length <= max;
}

/** `address/prefix`: a network address (no host bits set), a prefix within the family without a leading zero. */
export function isNetworkCidr(value: string): boolean {
  const [address, prefix, extra] = value.split('/');
  if (extra !== undefined || !/^(0|[1-9]\d*)$/.test(prefix ?? '') || net.isIP(address) === 0 || address.includes('%')) return false;
  const bits = net.isIPv4(address) ? 32 : 128;
  if (Number(prefix) > bits) return false;
  const bytes = net.isIPv4(address) ? address.split('.').map(Number) : ipv6Bytes(address);
  return bytes.every((b, i) => (b & (0xff >> Math.max(0, Math.min(8, Number(prefix) - i * 8)))) === 0);
}

/** The 16 bytes of an IPv6 address, through the WHATWG serializer (which expands nothing, so expand its "::"). */
function ipv6Bytes(address: string): number[] {
  const canonical = new URL(`http://[${address}]/`).hostname.slice(1, -1);
  const [head, tail] = canonical.split('::');
  const groups = (s?: string) => (s ? s.split(':') : []);
  const all = tail === undefined ? groups(head) : [...groups(head), ...Array(8 - groups(head).length - groups(tail).length).fill('0'), ...groups(tail)];
  return all.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]);
}

// ---------------------------------------------------------------------------------------------
// Pools of values, valid and not, judged by the oracles.

const dnsLabel = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,10}[a-z0-9])?$/);
export const validDnsName = fc
  .tuple(fc.boolean(), fc.array(dnsLabel, { minLength: 1, maxLength: 3 }), fc.constantFrom('example', 'internal', 'local', 'io'))
  .map(([wildcard, labels, tld]) => `${wildcard ? '*.' : ''}${[...labels, tld].join('.')}`);

const TRICKY_NAMES = [
  '10.0.0.300', '999.1.1.1', '1.2.3.4', '0x1f', 'a.0x1f', 'a.b1', '1a.example', 'a..b', '-a.example', 'a-.example', 'A.example', 'a_b.example',
  '*.', '*.*.a.example', 'a.example.', 'xn--bcher-kva.example', 'bücher.example', 'a b.example', '', 'localhost', 'cp-1', '1.1', '08.example',
  `${'a'.repeat(63)}.example`, `${'a'.repeat(64)}.example`, 'fd00::1',
];
export const dnsName: fc.Arbitrary<Judged<unknown>> = fc
  .oneof(validDnsName, fc.constantFrom(...TRICKY_NAMES), fc.string({ maxLength: 12 }), fc.domain())
  .map((value) => ({ value, valid: isValidDnsName(value) }));

const TRICKY_IPS = ['fd00::1%eth0', 'fe80::1%25eth0', '10.0.0.300', '10.0.1', '010.0.0.1', '::ffff:10.0.0.1', '1::1.2.3.4', '::', '::1', '1:2:3:4:5:6:7:8:9', '1.2.3.4/32', ' 1.2.3.4', 'FD00::A'];
export const ipAddress: fc.Arbitrary<Judged<unknown>> = fc
  .oneof(fc.ipV4(), fc.ipV6(), fc.ipV4Extended(), fc.constantFrom(...TRICKY_IPS), fc.string({ maxLength: 8 }))
  .map((value) => ({ value, valid: isValidIp(value) }));

export function subjectText(max: number): fc.Arbitrary<Judged<unknown>> {
  return fc
    .oneof(
      fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9 .-]{0,20}$/),
      fc.string({ unit: 'binary', maxLength: 8 }),
      fc.constantFrom('', '   ', 'a\u0007b', 'line\nbreak', 'tab\there', 'del\u007f', 'c1\u0085', '\ud800x', 'a'.repeat(max), 'a'.repeat(max + 1)),
      fc.integer(),
    )
    .map((value) => ({ value, valid: isValidSubjectText(value, max) }));
}

const DURATION_UNITS = { millis: 1, seconds: 1000, minutes: 60_000, hours: 3_600_000, days: 86_400_000 } as const;

/** A Duration in any unit, integral or not; `valid` judges whole seconds from `minSeconds` to `maxSeconds`. */
export function duration(minSeconds: number, maxSeconds: number): fc.Arbitrary<Judged<unknown>> {
  return fc
    .tuple(fc.constantFrom(...(Object.keys(DURATION_UNITS) as (keyof typeof DURATION_UNITS)[])), fc.oneof(fc.integer({ min: 0, max: 5000 }), fc.double({ min: 0, max: 5000, noNaN: true }), fc.integer({ min: 0, max: 2 ** 40 })))
    .map(([unit, amount]) => {
      const ms = amount * DURATION_UNITS[unit];
      return { value: Duration[unit](amount), valid: Number.isInteger(ms / 1000) && ms / 1000 >= minSeconds && ms / 1000 <= maxSeconds };
    });
}
