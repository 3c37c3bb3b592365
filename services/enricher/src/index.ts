// Public surface of the enricher service (used by the CLI).
export {};
