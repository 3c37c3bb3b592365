// The demo cluster in the kernel: a "node" network namespace with a bridge, one network namespace
// per pod on a veth into that bridge, and the broken links (an HTB rate limit on a pod's egress,
// nft drops at a receiving pod). Everything lives inside network namespaces named npdemo-*, so
// deleting those (after killing what runs in them) removes veths, qdiscs and nft tables with them.
import { BRIDGE, FAULTS, HUB_NETNS, NETNS_PREFIX, PODS, netnsOf, podNamed, type Fault } from "./cluster.js";
import { inNetns, sh, shQuiet } from "./shell.js";

/** The nft table the demo adds inside a pod's network namespace. */
export const NFT_TABLE = "npdemo";

export interface Built {
  readonly netns: ReadonlyArray<string>;
  readonly nftTables: ReadonlyArray<string>;
  readonly qdiscs: ReadonlyArray<string>;
}

/** Creates the namespaces, links and faults; returns what it made (for the state file). */
export const buildTopology = (record: (netns: string) => void): Built => {
  sh("ip", ["netns", "add", HUB_NETNS]);
  record(HUB_NETNS);
  inNetns(HUB_NETNS, ["ip", "link", "set", "lo", "up"]);
  inNetns(HUB_NETNS, ["ip", "link", "add", BRIDGE, "type", "bridge"]);
  inNetns(HUB_NETNS, ["ip", "link", "set", BRIDGE, "up"]);
  for (const p of PODS) {
    const ns = netnsOf(p);
    const port = `v-${p.short}`.slice(0, 15);
    sh("ip", ["netns", "add", ns]);
    record(ns);
    sh("ip", ["link", "add", port, "netns", HUB_NETNS, "type", "veth", "peer", "name", "eth0", "netns", ns]);
    inNetns(HUB_NETNS, ["ip", "link", "set", port, "master", BRIDGE, "up"]);
    inNetns(ns, ["ip", "addr", "add", `${p.ip}/24`, "dev", "eth0"]);
    inNetns(ns, ["ip", "link", "set", "eth0", "up"]);
    inNetns(ns, ["ip", "link", "set", "lo", "up"]);
    // steadier RTT under HTB: no segmentation offloads
    inNetns(ns, ["ethtool", "-K", "eth0", "tso", "off", "gso", "off", "gro", "off"]);
  }
  const nftTables: string[] = [];
  const qdiscs: string[] = [];
  for (const f of FAULTS) {
    const ns = netnsOf(podNamed(f.pod));
    applyFault(ns, f);
    if (f._tag === "Slow") qdiscs.push(`${ns}/eth0 htb`);
    else if (!nftTables.includes(`${ns}/inet ${NFT_TABLE}`)) nftTables.push(`${ns}/inet ${NFT_TABLE}`);
  }
  return { netns: [HUB_NETNS, ...PODS.map(netnsOf)], nftTables, qdiscs };
};

const applyFault = (ns: string, f: Fault): void => {
  switch (f._tag) {
    case "Slow": {
      // class 1:10 (the default) unlimited, class 1:20 the slow link, chosen by destination address
      inNetns(ns, ["tc", "qdisc", "replace", "dev", "eth0", "root", "handle", "1:", "htb", "default", "10"]);
      inNetns(ns, ["tc", "class", "add", "dev", "eth0", "parent", "1:", "classid", "1:10", "htb", "rate", "10gbit"]);
      inNetns(ns, ["tc", "class", "add", "dev", "eth0", "parent", "1:", "classid", "1:20", "htb", "rate", f.rate]);
      inNetns(ns, [
        "tc",
        "filter",
        "add",
        "dev",
        "eth0",
        "parent",
        "1:",
        "protocol",
        "ip",
        "prio",
        "1",
        "u32",
        "match",
        "ip",
        "dst",
        `${podNamed(f.to).ip}/32`,
        "flowid",
        "1:20",
      ]);
      return;
    }
    case "Lossy":
    case "SynDrop": {
      inNetns(ns, ["nft", "add", "table", "inet", NFT_TABLE]);
      inNetns(ns, ["nft", "add", "chain", "inet", NFT_TABLE, "input", "{ type filter hook input priority 0; }"]);
      const syn = f._tag === "SynDrop" ? ["tcp", "flags", "&", "(syn|ack)", "==", "syn"] : [];
      const random = ["numgen", "random", "mod", "100", "<", String(f.percent)];
      inNetns(ns, [
        "nft",
        "add",
        "rule",
        "inet",
        NFT_TABLE,
        "input",
        "tcp",
        "dport",
        String(f.port),
        ...syn,
        ...random,
        "counter",
        "drop",
      ]);
      return;
    }
  }
};

/** Packets each nft fault dropped so far, by pod. */
export const faultDrops = (): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const f of FAULTS) {
    if (f._tag === "Slow") continue;
    const text = shQuiet("ip", ["netns", "exec", netnsOf(podNamed(f.pod)), "nft", "list", "table", "inet", NFT_TABLE]);
    out[f.pod] = [...(text ?? "").matchAll(/counter packets (\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
  }
  return out;
};

/** Every demo network namespace present now (also those of an earlier run). */
export const demoNetns = (): string[] =>
  (shQuiet("ip", ["netns", "list"]) ?? "")
    .split("\n")
    .map((l) => l.split(" ")[0] ?? "")
    .filter((n) => n.startsWith(NETNS_PREFIX));

/** Kills whatever runs in the demo's network namespaces, then deletes them (veths, qdiscs, nft go along). */
export const teardownTopology = (): void => {
  for (const ns of demoNetns()) {
    const pids = (shQuiet("ip", ["netns", "pids", ns]) ?? "").split(/\s+/).filter((s) => /^\d+$/.test(s));
    for (const pid of pids) {
      try {
        process.kill(Number(pid), "SIGKILL");
      } catch {
        // already gone
      }
    }
  }
  for (const ns of demoNetns()) shQuiet("ip", ["netns", "del", ns]);
};
