// What `netpulse start` needs before it touches anything: root, a kernel with BTF, the BPF loader
// built and loadable, the services built, and the network tools. All that is missing is said in
// one message with how to get it (the command exits 2).
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { defaultLoaderPath } from "@netpulse/capture";
import { repoRoot } from "./paths.js";
import { SERVICE_NAMES } from "./processes.js";

const BTF = "/sys/kernel/btf/vmlinux";
const TOOLS: ReadonlyArray<readonly [string, string]> = [
  ["ip", "iproute2"],
  ["tc", "iproute2"],
  ["nft", "nftables"],
  ["ethtool", "ethtool"],
  ["python3", "python3"],
];

const onPath = (tool: string): boolean =>
  (process.env["PATH"] ?? "").split(":").some((dir) => dir !== "" && existsSync(join(dir, tool)));

/** Why the loader can't load its BPF program here (its last stderr line), or undefined when it can. */
const loaderFails = (loader: string): string | undefined => {
  try {
    execFileSync(loader, ["--duration-ms", "10"], { stdio: "pipe" });
    return undefined;
  } catch (e) {
    const err = e as { stderr?: Buffer; message: string };
    return (err.stderr?.toString().trim() || err.message).split("\n").pop();
  }
};

/** Everything missing, each with how to get it; empty when the demo can run. */
export const missing = (): string[] => {
  const out: string[] = [];
  if (process.getuid?.() !== 0)
    out.push(
      "root (it makes network namespaces, qdiscs and nft tables and loads BPF): run it as root, e.g. sudo npm start",
    );
  if (!existsSync(BTF))
    out.push(`BTF (${BTF}): the capture needs Linux 6.2 or later built with CONFIG_DEBUG_INFO_BTF=y`);
  const loader = defaultLoaderPath();
  if (!existsSync(loader)) out.push(`the BPF loader (${loader}): build it with make -C bpf (npm start does)`);
  const unbuilt = SERVICE_NAMES.filter((s) => !existsSync(join(repoRoot, "services", s, "dist", "main.js")));
  if (unbuilt.length > 0)
    out.push(`built services (${unbuilt.join(", ")}): build them with npx tsc -b (npm start does)`);
  const tools = TOOLS.filter(([t]) => !onPath(t));
  if (tools.length > 0)
    out.push(`${tools.map(([t]) => t).join(", ")}: apt-get install ${[...new Set(tools.map(([, p]) => p))].join(" ")}`);
  if (out.length === 0) {
    const why = loaderFails(loader);
    if (why !== undefined) out.push(`a BPF program this kernel loads (the loader says: ${why})`);
  }
  return out;
};
