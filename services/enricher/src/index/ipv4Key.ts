// Dotted-quad IPv4 as a 32-bit number, parsed from text or straight from bytes, so the hot path
// can look IPv4 addresses up without building a string. -1 when the input isn't dotted IPv4.

/** Parse `bytes[start, end)` (ASCII) as a.b.c.d. */
export const ipv4KeyOfBytes = (bytes: Uint8Array, start: number, end: number): number => {
  if (end - start < 7 || end - start > 15) return -1;
  let key = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = start; i < end; i++) {
    const c = bytes[i] as number;
    if (c === 0x2e) {
      if (digits === 0 || ++dots > 3) return -1;
      key = key * 256 + octet;
      octet = 0;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39 && digits < 3 && !(digits === 1 && octet === 0)) {
      // (no leading zeros: only the canonical text maps to a key)
      octet = octet * 10 + (c - 0x30);
      digits++;
      if (octet > 255) return -1;
    } else {
      return -1;
    }
  }
  return dots === 3 && digits > 0 ? key * 256 + octet : -1;
};

export const ipv4Key = (ip: string): number =>
  ip.length > 15 ? -1 : ipv4KeyOfBytes(Buffer.from(ip, "latin1"), 0, ip.length);
