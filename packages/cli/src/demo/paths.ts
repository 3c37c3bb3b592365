// Where the demo keeps its things: the repository root (services' entry points, bpf/, scripts/)
// and `.netpulse/demo/` (state file, manifests, one log per process). Same depth from src/demo
// and dist/demo.
import { fileURLToPath } from "node:url";
import { join } from "node:path";

export const repoRoot = fileURLToPath(new URL("../../../../", import.meta.url));
export const demoDir = join(repoRoot, ".netpulse", "demo");
export const stateFile = join(demoDir, "state.json");
export const manifestFile = join(demoDir, "cluster.json");
export const logFile = (name: string): string => join(demoDir, `${name}.log`);
/** Source files the demo runs as they are (not compiled): from dist/demo too, they live in src/demo. */
export const demoSource = (file: string): string => fileURLToPath(new URL(`../../src/demo/${file}`, import.meta.url));
/** ClickHouse database of the demo's flows and anomalies, apart from `netpulse`. */
export const DEMO_DATABASE = "netpulse_demo";
