// Hashes a workload-pair key to 64 bits, as two 32-bit halves, so the baseline table stores
// 8 bytes per pair instead of the key string. Two differently seeded multiplicative hashes over
// the UTF-16 code units, each finished with murmur3's fmix32. With n pairs tracked at once the
// chance that any two share all 64 bits is about n²/2⁶⁵: 3·10⁻¹⁰ at 100 k pairs, so a collision
// (two pairs sharing one baseline) is treated as impossible rather than detected.

const fmix32 = (h0: number): number => {
  let h = h0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
};

/** Writes the key's hash into out[0] (high half, also picks the home bucket) and out[1]. */
export const hashPairKey = (key: string, out: Uint32Array): void => {
  let a = 0x811c9dc5 ^ key.length;
  let b = 0x9e3779b9 ^ Math.imul(key.length, 0x27d4eb2f);
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  out[0] = fmix32(a ^ (b >>> 7));
  out[1] = fmix32(b ^ Math.imul(a, 0x165667b1));
};
