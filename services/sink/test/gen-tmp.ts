import { toJsonLine } from "@netpulse/runtime/codec/json";
import { makeFlows } from "./fixtures.js";
const n = Number(process.argv[2] ?? 100);
const raw = process.argv[3] === "raw";
for (const f of makeFlows(n)) {
  const { src: _s, dst: _d, ...r } = f;
  process.stdout.write(toJsonLine(raw ? r : f) + "\n");
}
