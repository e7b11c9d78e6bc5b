// Which of two copies of one API object is newer. Kubernetes resourceVersions
// are etcd revisions, and since 1.35 the API documents them as comparable
// integers (KEP-5504); anything else is treated as incomparable. Pure.

interface Versioned {
  metadata: { resourceVersion?: string; uid?: string };
}

const DIGITS = /^[1-9]\d*$/;

/** -1, 0 or 1 as `a` is older, the same or newer than `b`; undefined when they cannot be compared. */
export function compareResourceVersions(a: string | undefined, b: string | undefined): -1 | 0 | 1 | undefined {
  if (a === undefined || b === undefined || !DIGITS.test(a) || !DIGITS.test(b)) return undefined;
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The newer of two copies, one of which may be missing. `undefined` when there
 * is nothing to choose from or the two cannot be ordered (different objects
 * under one name, or versions that are not revisions): the caller reads afresh.
 */
export function newerCopy<T extends Versioned>(a: T | undefined, b: T | undefined): T | undefined {
  if (!a || !b) return a ?? b;
  if (a.metadata.uid !== b.metadata.uid) return undefined;
  const order = compareResourceVersions(a.metadata.resourceVersion, b.metadata.resourceVersion);
  if (order === undefined) return undefined;
  return order >= 0 ? a : b;
}
