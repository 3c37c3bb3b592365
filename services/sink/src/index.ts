// Public surface of the sink service (used by the CLI).
export {};
