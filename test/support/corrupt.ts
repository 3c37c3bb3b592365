// Seeded corruptions of a good message for the "never throws, accepts only what the codec
// accepts" tests: 1–3 random bytes overwritten, and every fifth copy also cut short at random.
export function* corruptions(good: Buffer, count: number, seed: number): Generator<readonly [number, Buffer]> {
  let s = seed;
  const rand = (n: number) => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s % n;
  };
  for (let i = 0; i < count; i++) {
    const bad = Buffer.from(good);
    for (let k = 1 + rand(3); k > 0; k--) bad[rand(bad.length)] = rand(256);
    yield [i, i % 5 === 0 ? bad.subarray(0, rand(bad.length)) : bad] as const;
  }
}
