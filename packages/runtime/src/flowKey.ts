// The bus key of a flow: its two IPs sorted, so both directions of a conversation (and both
// nodes' records of it) hash onto the same partition and stay ordered together.
export const flowKey = (a: string, b: string): string => (a < b ? `${a}|${b}` : `${b}|${a}`);
