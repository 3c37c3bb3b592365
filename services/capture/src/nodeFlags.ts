// The capture's V8 flags, as deployed (capture.command in deploy/helm/netpulse/values.yaml, which
// test/helm-chart.test.ts holds to this list; the demo and the fault test start it with them).
// Both work only on node's command line, not through v8.setFlagsFromString once the heap exists.
//
// --no-memory-reducer: V8's memory reducer shrinks a heap whose allocation rate dropped with up to
// three full GCs, and under a steady load it did so again after each major GC (~100 ms of CPU
// within 2 s, --trace-gc), then the shrunk young generation doubled the scavenges (35 against 16
// in 40 s). The capture's heap is small and steady; the garbage collector still runs whenever
// allocation needs it.
//
// --max-semi-space-size=4 (MiB; V8's default grows to 16 on this heap): a young generation a
// quarter of the size. In test/faults/capture.test.ts (1,000 connections at 10 Hz plus churn, the
// broker frozen until the queue is full) the capture's peak RSS was 197–199 MiB against 221–233
// without it, two runs each, for the cap of 247.5 MiB under the chart's 256Mi limit; its CPU over
// the same run was 1,324–1,377 ticks against 1,288–1,329, +3 %, the spread of two runs alike.
export const captureNodeFlags: ReadonlyArray<string> = ["--no-memory-reducer", "--max-semi-space-size=4"];
