#!/usr/bin/env bash
# Prints a seccomp profile for the capture container under podman/CRI-O: the runtime's default
# profile (containers-common's seccomp.json, or the file given) with bpf(2) allowed to a container
# holding CAP_BPF and perf_event_open(2) to one holding CAP_PERFMON, as containerd (>= 1.5) and
# Docker (>= 20.10) already do by default. containers-common 0.50 (Debian 12's podman 4.3) allows
# them only with CAP_SYS_ADMIN, which the capture must not have; without CAP_BPF, bpf(2) fails
# with EPERM as it would in the kernel.
#
#   deploy/image/seccomp-bpf.sh [/usr/share/containers/seccomp.json] > seccomp-bpf.json
#   podman run --cap-drop ALL --cap-add BPF --cap-add PERFMON --security-opt seccomp=seccomp-bpf.json ...
set -euo pipefail
profile="${1:-/usr/share/containers/seccomp.json}"
[ -r "$profile" ] || { echo "seccomp-bpf: no profile at $profile (give the runtime's default as the argument)" >&2; exit 2; }
python3 - "$profile" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
gated = {"bpf": "CAP_BPF", "perf_event_open": "CAP_PERFMON"}
rules = []
for s in d["syscalls"]:
    # drop both syscalls from the existing rules (the CAP_SYS_ADMIN allow and the errno for the rest)
    names = [n for n in s["names"] if n not in gated]
    if names:
        s["names"] = names
        rules.append(s)
for name, cap in gated.items():
    rules.append({"names": [name], "action": "SCMP_ACT_ALLOW", "includes": {"caps": [cap]}})
    rules.append({"names": [name], "action": "SCMP_ACT_ERRNO", "errnoRet": 1, "excludes": {"caps": [cap]}})
d["syscalls"] = rules
json.dump(d, sys.stdout, indent=1)
print()
PY
