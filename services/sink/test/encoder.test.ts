// The hand-unrolled flows encoder must produce exactly the generic encoder's bytes (which the
// DDL's column order defines), on both dialects; an unparsable IP fails only on IPv6 columns.
import { describe, expect, it } from "vitest";
import { encodeFlows } from "../src/rows/FlowRowBinary.js";
import { makeRowEncoder } from "../src/rows/RowEncoder.js";
import { flows } from "../src/schema/tables.js";
import { makeFlows } from "./fixtures.js";

describe("flows RowBinary", () => {
  const rows = makeFlows(500).map((r, i) =>
    i === 7
      ? { ...r, src_ip: "fd00::1", src: { ...r.src, labels: { "app.kubernetes.io/name": "ünïcödé", x: "" } } }
      : r,
  );
  for (const d of ["legacy", "modern"] as const) {
    it(`fast path equals the generic encoder (${d})`, () => {
      const generic = makeRowEncoder(flows, d, "db").encode(rows);
      const fast = encodeFlows(rows, d);
      expect(fast.rejected).toEqual([]);
      expect(Buffer.compare(fast.body, generic.body)).toBe(0);
    });
  }
  it("refuses a bad IP only where the column is IPv6", () => {
    const bad = [{ ...rows[0]!, dst_ip: "not-an-ip" }, rows[1]!];
    expect(encodeFlows(bad, "legacy").rejected).toEqual([]);
    const modern = encodeFlows(bad, "modern");
    expect(modern.encoded).toEqual([rows[1]]);
    expect(modern.rejected[0]!.reason).toMatch(/dst_ip/);
    expect(makeRowEncoder(flows, "modern", "db").encode(bad).rejected[0]!.reason).toMatch(/dst_ip/);
  });
});
