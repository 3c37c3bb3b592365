// Public surface of the detector service (used by the CLI).
export {};
