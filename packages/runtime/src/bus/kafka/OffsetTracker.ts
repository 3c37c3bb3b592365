// Which Kafka offset a consumer may commit: per partition, the offsets handed out in order and
// which of them were acked. The commit point only moves past a message once it and everything
// delivered before it on that partition is acked (offsets need not be contiguous: compaction and
// transaction markers leave gaps). A rebalance resets a partition; acks from before it are ignored.
interface PartitionState {
  epoch: number;
  /** Delivered, not yet passed by the commit point, in delivery order. */
  readonly pending: bigint[];
  head: number;
  readonly acked: Set<bigint>;
  /** Next offset to commit (last passed + 1), if it moved since the last commit. */
  commit: bigint | undefined;
}

export interface Ticket {
  readonly partition: number;
  readonly epoch: number;
  readonly offset: bigint;
}

export class OffsetTracker {
  private readonly partitions = new Map<number, PartitionState>();
  private epochs = 0;

  private state(partition: number): PartitionState {
    let s = this.partitions.get(partition);
    if (s === undefined) {
      s = { epoch: ++this.epochs, pending: [], head: 0, acked: new Set(), commit: undefined };
      this.partitions.set(partition, s);
    }
    return s;
  }

  /** Record a delivery. An offset at or below the last one delivered means a re-fetch: start over. */
  delivered(partition: number, offset: bigint): Ticket {
    let s = this.state(partition);
    const last = s.pending[s.pending.length - 1];
    if (last !== undefined && offset <= last && s.pending.length > s.head) {
      this.reset(partition);
      s = this.state(partition);
    }
    s.pending.push(offset);
    return { partition, epoch: s.epoch, offset };
  }

  /** Mark acked; true if the commit point moved. Stale tickets (before a reset) change nothing. */
  ack(ticket: Ticket): boolean {
    const s = this.partitions.get(ticket.partition);
    if (s === undefined || s.epoch !== ticket.epoch) return false;
    s.acked.add(ticket.offset);
    let moved = false;
    while (s.head < s.pending.length) {
      const next = s.pending[s.head]!;
      if (!s.acked.has(next)) break;
      s.acked.delete(next);
      s.head++;
      s.commit = next + 1n;
      moved = true;
    }
    if (s.head > 1024 && s.head * 2 > s.pending.length) {
      s.pending.splice(0, s.head);
      s.head = 0;
    }
    return moved;
  }

  /** Commit points that moved since the last call, as Kafka wants them (next offset to read). */
  takeCommits(): Array<{ partition: number; offset: string }> {
    const out: Array<{ partition: number; offset: string }> = [];
    for (const [partition, s] of this.partitions) {
      if (s.commit !== undefined) out.push({ partition, offset: s.commit.toString() });
      s.commit = undefined;
    }
    return out;
  }

  /** Forget a partition (revoked, or re-fetched from the committed offset after a rebalance). */
  reset(partition: number): void {
    this.partitions.delete(partition);
  }

  resetAll(): void {
    this.partitions.clear();
  }

  /** Put back commit points whose commit failed, unless the partition was reset meanwhile. */
  restore(commits: ReadonlyArray<{ partition: number; offset: string }>, epochs: ReadonlyMap<number, number>): void {
    for (const c of commits) {
      const s = this.partitions.get(c.partition);
      if (s !== undefined && s.epoch === epochs.get(c.partition) && s.commit === undefined) s.commit = BigInt(c.offset);
    }
  }

  epochOf(partition: number): number | undefined {
    return this.partitions.get(partition)?.epoch;
  }
}
