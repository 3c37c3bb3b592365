// Holds the TypeScript decoder to bpf/flow_record.h: offsets against the C compiler's offsetof()
// (loader --layout) and decoded values against records the C side wrote (loader --selftest).
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { decodeFlow, decodeRecord, decodeStats, RecordFramer } from "../src/FlowRecordDecoder.js";
import { FlowOffsets, RECORD_SIZE, StatsOffsets } from "../src/FlowRecordLayout.js";
import { ipText } from "../src/ipText.js";

const bpfDir = fileURLToPath(new URL("../../../bpf", import.meta.url));
const loader = `${bpfDir}/.output/netpulse-loader`;

let layout: { size: number; flow: Record<string, [number, number]>; stats: Record<string, [number, number]> };
let selftest: Buffer;

beforeAll(() => {
  execFileSync("make", ["-s", "-C", bpfDir], { stdio: "inherit" });
  layout = JSON.parse(execFileSync(loader, ["--layout"], { encoding: "utf8" })) as typeof layout;
  selftest = execFileSync(loader, ["--selftest"]);
});

describe("flow record layout", () => {
  it("has the size the decoder assumes", () => {
    expect(layout.size).toBe(RECORD_SIZE);
    expect(selftest.length).toBe(3 * RECORD_SIZE);
  });

  it("matches every flow field offset and size", () => {
    expect(layout.flow).toEqual(Object.fromEntries(Object.entries(FlowOffsets).map(([k, v]) => [k, [...v]])));
  });

  it("matches every stats field offset and size", () => {
    expect(layout.stats).toEqual(Object.fromEntries(Object.entries(StatsOffsets).map(([k, v]) => [k, [...v]])));
  });
});

describe("decoding bytes written by the C side", () => {
  it("decodes an IPv4 close record with known values", () => {
    const r = decodeFlow(selftest, 0);
    expect(r).toMatchObject({
      kind: 3,
      family: 2,
      direction: 2,
      state: 7,
      closeReason: 3,
      flags: 3,
      lport: 8080,
      rport: 54321,
      sampling: 16,
      flowId: Number(0x0102030405060708n),
      bytesIn: 1234567890123,
      dBytesOut: 1000001,
      dBytesIn: 2000002,
      segsOut: 0x01020304,
      segsIn: 0x05060708,
      dSegsOut: 11,
      dSegsIn: 12,
      totalRetrans: 13,
      dRetrans: 14,
      synRetrans: 2,
      dSynRetrans: 1,
      srttUs: 150123,
      rttvarUs: 4567,
      minRttUs: 100001,
      maxRttUs: 200002,
      pid: 424242,
      netns: 4026531840,
      cgroupHi: 0x1234,
      cgroupLo: 0x56789abc,
    });
    // 64-bit values above 2^53 are approximated as doubles, within a few ulps
    expect(r.tsNs).toBeCloseTo(Number(0x1112131415161718n), -3);
    expect(r.startNs).toBeCloseTo(Number(0x0a0b0c0d0e0f1011n), -3);
    expect(ipText(r.family, r.laddr)).toBe("10.200.1.2");
    expect(ipText(r.family, r.raddr)).toBe("10.200.1.1");
    expect(Buffer.from(r.comm).toString("latin1").replace(/\0+$/, "")).toBe("selftest-comm");
  });

  it("decodes an IPv6 open record and a comm without terminator", () => {
    const r = decodeFlow(selftest, RECORD_SIZE);
    expect(r).toMatchObject({ kind: 1, family: 10, direction: 1, lport: 40000, rport: 443, flowId: 7 });
    expect(ipText(r.family, r.laddr)).toBe("fd00::1");
    expect(ipText(r.family, r.raddr)).toBe("2001:db8::beef");
    expect(Buffer.from(r.comm).toString("latin1")).toBe("0123456789abcdef");
  });

  it("decodes the stats record with exact 64-bit clocks", () => {
    const s = decodeStats(selftest, 2 * RECORD_SIZE);
    expect(s).toEqual({
      kind: 4,
      sampling: 4,
      monoNs: 123456789012345n,
      realNs: 1763700000123456789n,
      ringbufDrops: 5,
      flowsOpened: 6,
      flowsClosed: 7,
      sampledOut: 8,
      filteredOut: 9,
      mapFull: 10,
      recordsWritten: 11,
    });
    expect(decodeRecord(selftest, 2 * RECORD_SIZE)?.kind).toBe(4);
  });

  it("frames records split across arbitrary chunk boundaries", () => {
    const framer = new RecordFramer();
    const parts = [selftest.subarray(0, 100), selftest.subarray(100, 450), selftest.subarray(450)];
    const out = Buffer.concat(parts.map((p) => framer.push(p)));
    expect(out.equals(selftest)).toBe(true);
  });

  it("writes IPv4-mapped IPv6 as IPv4", () => {
    const mapped = new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 7]);
    expect(ipText(10, mapped)).toBe("10.0.0.7");
  });
});
