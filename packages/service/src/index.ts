// Placeholder until the package lands; not committed.
export {};
