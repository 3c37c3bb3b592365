// What an IP resolves to: one pod, node, service or external name. The Endpoint record and its
// Avro bytes are built on first use and kept until something the endpoint depends on changes
// (owner, service membership), so the hot path appends cached bytes instead of encoding.
import { endKey } from "@netpulse/runtime/flowKey";
import type { Endpoint } from "@netpulse/runtime/records";

export type EndpointEncoder = (endpoint: Endpoint) => Buffer;

export class Target {
  private ep: Endpoint | null = null;
  private enc: Buffer | null = null;
  private end: string | null = null;

  constructor(
    /** pod | node | service | external | unknown — the metric label. */
    readonly kind: string,
    /** Pod key ("ns/name") for pods, "" otherwise. */
    readonly ref: string,
    private readonly build: () => Endpoint,
    private readonly encoder: EndpointEncoder,
  ) {}

  endpoint(): Endpoint {
    if (this.ep === null) this.ep = this.build();
    return this.ep;
  }

  encoded(): Buffer {
    if (this.enc === null) this.enc = this.encoder(this.endpoint());
    return this.enc;
  }

  /** The end's part of the workload pair key (flowKey.ts `endKey`); `ip` is used only where the end is just an address. */
  endKey(ip: () => string): string {
    if (this.kind === "unknown") return ip();
    if (this.end === null) this.end = endKey(this.endpoint(), "");
    return this.end === "" ? ip() : this.end;
  }

  invalidate(): void {
    this.ep = null;
    this.enc = null;
    this.end = null;
  }
}
