// Walks the Avro encoding of array<RawFlow> (schemas/raw-flow.v1.avsc) without building records:
// for each flow it finds where its bytes start and end and reads only what enrichment needs
// (src/dst IP, start time). EnrichedFlow's leading fields are exactly RawFlow's, so those bytes
// are copied unchanged into the output; no bigint is ever created on this path. The same
// semantic checks as the codec's are applied (codec/flowRules.ts), so a bad batch is refused the same way.
import { AvroCursor, AvroCursorError, longLess, longOf } from "@netpulse/runtime/codec/AvroCursor";
import { CLOSE_REASON_BYTES, DIRECTION_BYTES, flowProblem } from "@netpulse/runtime/codec/flowRules";
import { ipv4KeyOfBytes } from "../index/ipv4Key.js";

// Field order below must follow raw-flow.v1.avsc; services/enricher/test/BatchEnricher.test.ts holds them together.

export interface ScannedFlow {
  start: number;
  end: number;
  /** Where the src/dst IP text lies in the scanned bytes. */
  srcAt: number;
  srcEnd: number;
  dstAt: number;
  dstEnd: number;
  /** IPv4 as a number (ipv4Key), -1 for anything else. */
  srcV4: number;
  dstV4: number;
  /** start_ns / 1e6 as a double (sub-µs precision is lost; irrelevant for IP validity times). */
  startMs: number;
}

/** A batch the codec would refuse: `kind` as CodecError's. */
export class ScanError extends Error {
  constructor(
    readonly kind: "invalid_record" | "garbage",
    message: string,
  ) {
    super(message);
  }
}

export class RawFlowScanner extends AvroCursor {
  /** Scan `bytes` (a whole array<RawFlow>); fills and returns `out` (reused between calls). */
  scan(bytes: Buffer, out: ScannedFlow[]): number {
    this.reset(bytes);
    let n = 0;
    for (let count = this.block(); count !== 0; count = this.block()) {
      for (let i = 0; i < count; i++) {
        let f = out[n];
        if (f === undefined)
          out[n] = f = { start: 0, end: 0, srcAt: 0, srcEnd: 0, dstAt: 0, dstEnd: 0, srcV4: -1, dstV4: -1, startMs: 0 };
        this.record(f, n);
        n++;
      }
    }
    if (this.pos !== bytes.length)
      throw new ScanError("garbage", `${bytes.length - this.pos} trailing bytes after the last record`);
    return n;
  }

  private record(f: ScannedFlow, i: number): void {
    f.start = this.pos;
    this.skip(); // flow_id
    this.string(); // node
    this.long();
    const startLo = this.lo;
    const startHi = this.hi;
    this.long();
    const backwards = longLess(this.lo, this.hi, startLo, startHi)
      ? ([longOf(this.lo, this.hi), longOf(startLo, startHi)] as const)
      : undefined;
    this.string();
    f.srcAt = this.s;
    f.srcEnd = this.e;
    f.srcV4 = ipv4KeyOfBytes(this.buf, f.srcAt, f.srcEnd);
    const srcPort = this.int();
    this.string();
    f.dstAt = this.s;
    f.dstEnd = this.e;
    f.dstV4 = ipv4KeyOfBytes(this.buf, f.dstAt, f.dstEnd);
    const dstPort = this.int();
    this.string(); // protocol
    this.string();
    const badDirection = this.oneOf(DIRECTION_BYTES) < 0 ? this.text() : undefined;
    for (let k = 0; k < 9; k++) this.skip(); // bytes_sent .. syn_retransmits, srtt/min/max rtt
    this.string(); // state
    this.string();
    const badClose = this.oneOf(CLOSE_REASON_BYTES) < 0 ? this.text() : undefined;
    this.skip(); // netns
    this.skip(); // cgroup_id
    this.skip(); // pid
    this.string(); // comm
    const sampling = this.int();
    f.end = this.pos;
    f.startMs = ((startHi | 0) * 4294967296 + startLo) / 1e6;
    if (this.overrun) throw new AvroCursorError("truncated", `RawFlow at index ${i} runs past the end`);
    const problem = flowProblem(badDirection, badClose, srcPort, dstPort, backwards, sampling);
    if (problem !== undefined)
      throw new ScanError("invalid_record", `invalid netpulse.v1.RawFlow at index ${i}: ${problem}`);
  }
}
