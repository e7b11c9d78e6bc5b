// The two ways Alibaba pages a list: NextToken + MaxResults (newer), and
// PageNumber + PageSize (older). Items must be sorted by id: the token names
// the last id returned, so a page boundary survives inserts and deletes.
import { invalidParameter, type Params } from './params.js';

export interface PageSpec {
  /** Largest PageSize accepted. */
  pageSizeMax: number;
  /** Whether NextToken/MaxResults are accepted, and MaxResults' clamp range. */
  token?: { min: number; max: number };
}

export interface Page<T> {
  items: T[];
  /** Paging fields for the response body. */
  fields: Record<string, unknown>;
}

const encodeToken = (id: string) => Buffer.from(id, 'utf8').toString('base64url');

function decodeToken(token: string): string {
  if (!/^[A-Za-z0-9_-]{1,400}$/.test(token)) throw invalidParameter('NextToken', 'malformed token');
  const id = Buffer.from(token, 'base64url').toString('utf8');
  if (!/^[\w.-]+$/.test(id)) throw invalidParameter('NextToken', 'malformed token');
  return id;
}

/** Reads and checks the paging parameters; call before any world change. */
export function pagingOf(p: Params, spec: PageSpec): <T extends { id: string }>(all: T[]) => Page<T> {
  const pageNumber = p.int('PageNumber', 1, 1_000_000);
  const pageSize = p.int('PageSize', 1, spec.pageSizeMax);
  const pageMode = pageNumber !== undefined || pageSize !== undefined || !spec.token;
  if (pageMode) {
    if (p.optional('NextToken') !== undefined) throw invalidParameter('NextToken', 'cannot be combined with PageNumber/PageSize');
    const number = pageNumber ?? 1;
    const size = pageSize ?? 10;
    return (all) => ({
      items: all.slice((number - 1) * size, number * size),
      fields: { PageNumber: number, PageSize: size, TotalCount: all.length },
    });
  }
  const range = spec.token!;
  // Out-of-range MaxResults is clamped, as the API reference describes.
  const max = Math.min(range.max, Math.max(range.min, p.int('MaxResults', 0, 1_000_000) ?? range.min));
  const token = p.optional('NextToken');
  const after = token === undefined ? undefined : decodeToken(token);
  return (all) => {
    const rest = after === undefined ? all : all.filter((x) => x.id > after);
    const items = rest.slice(0, max);
    const more = rest.length > items.length;
    return { items, fields: { NextToken: more ? encodeToken(items[items.length - 1]!.id) : '', MaxResults: max, TotalCount: all.length } };
  };
}
