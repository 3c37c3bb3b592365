// Public surface of the capture service (used by the CLI).
export {};
