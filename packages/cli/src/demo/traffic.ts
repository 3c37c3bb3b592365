// The demo's traffic: one process per pod (traffic.py inside the pod's network namespace) serving
// its ports and running its client loops from cluster.ts's JOBS.
import { existsSync } from "node:fs";
import { JOBS, PODS, netnsOf, podNamed } from "./cluster.js";
import { demoSource } from "./paths.js";
import { startInNetns, type DemoProcess } from "./processes.js";

const python = existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";

export const startTraffic = (): DemoProcess[] =>
  PODS.map((p) => {
    const jobs = JOBS.filter((j) => j.from === p.short).map((j) => ({
      url: `http://${podNamed(j.to).ip}:${j.port}/${j.post ? "" : j.bytes}`,
      post: j.post ? j.bytes : 0,
      every_ms: j.everyMs,
    }));
    const config = JSON.stringify({ serve: p.ports, jobs });
    return startInNetns(`traffic-${p.short}`, netnsOf(p), [python, demoSource("traffic.py"), config]);
  });
