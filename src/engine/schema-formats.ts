/**
 * The string formats of this library's JSON Schemas, in a module of their own: validators compiled ahead of time
 * (scripts/compile-schemas.ts) require it by path, so it must not pull in ajv or anything else heavy.
 */
import type { Format } from 'ajv';
import { controlCharacterIndex, hostBitsReason, isAbsoluteUri, isCidr, isDnsName, isIpAddress } from './names';

export const SCHEMA_FORMATS: Record<string, Format> = {
  'ip': isIpAddress,
  'cidr': isCidr,
  'dns-name': isDnsName,
  'dns-domain': (v: string) => isDnsName(v) && !v.startsWith('*'),
  'uri': isAbsoluteUri,
  // A subject value is printed by every tool that shows the certificate: no control characters, not blank.
  'subject-text': (v: string) => /\S/.test(v) && controlCharacterIndex(v) < 0,
  'country': /^[A-Z]{2}$/,
  // Name constraints compare the masked address: host bits set would say one range and mean another.
  'network-cidr': (v: string) => isCidr(v) && !hostBitsReason(v),
  // SAN emails are IA5String: ASCII only (RFC 5280 §4.2.1.6).
  'email': (v: string) => /^[\x21-\x7e]*$/.test(v) && /^[^\s@]+@[^\s@]+$/.test(v),
};
