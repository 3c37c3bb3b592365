// Text form of the kernel's 16-byte address fields. IPv4-mapped IPv6 (a dual-stack socket talking
// IPv4) is written as IPv4 so both ends of a conversation name the peer the same way.
const hex = (b: Uint8Array, i: number): number => ((b[i] ?? 0) << 8) | (b[i + 1] ?? 0);

const v4 = (b: Uint8Array, at: number): string => `${b[at] ?? 0}.${b[at + 1] ?? 0}.${b[at + 2] ?? 0}.${b[at + 3] ?? 0}`;

const isV4Mapped = (b: Uint8Array, at: number): boolean => {
  for (let i = 0; i < 10; i++) if (b[at + i] !== 0) return false;
  return b[at + 10] === 0xff && b[at + 11] === 0xff;
};

const v6 = (b: Uint8Array, at: number): string => {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(hex(b, at + i));
  // RFC 5952: compress the longest run (≥ 2) of zero groups.
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const text = groups.map((g) => g.toString(16));
  if (bestStart < 0) return text.join(":");
  return `${text.slice(0, bestStart).join(":")}::${text.slice(bestStart + bestLen).join(":")}`;
};

/** `family` is AF_INET (2) or AF_INET6 (10); `at` is where the 16-byte field starts in `b`. */
export const ipText = (family: number, b: Uint8Array, at = 0): string => {
  if (family === 2) return v4(b, at);
  return isV4Mapped(b, at) ? v4(b, at + 12) : v6(b, at);
};
