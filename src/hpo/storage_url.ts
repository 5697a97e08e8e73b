import { resolve } from "node:path";
import { WhetError } from "../core/errors.js";
import { PostgresDriver } from "./postgres_driver.js";
import { RdbStorage } from "./rdb_storage.js";
import type { Stamp } from "./rdb_schema.js";
import { SqliteDriver } from "./sqlite_driver.js";

/** A storage URL whet cannot use at all (a usage error, unlike a server that is down). */
export class StorageUrlError extends WhetError {}

/** Turns a SQLAlchemy-style URL into a file path: `sqlite:///rel.db`, `sqlite:////abs.db`; `:memory:` without one. */
export function sqlitePath(url: string): string {
  const rest = url.replace(/^sqlite:\/\//, "");
  if (rest === "" || rest === "/" || rest === "/:memory:") return ":memory:";
  return resolve(rest.slice(1).replace(/\?.*$/, ""));
}

/**
 * Opens Optuna's storage at a URL, creating its tables when the database is new:
 * `sqlite:///study.db` (relative), `sqlite:////abs/path.db`, `postgresql://user:pass@host:5432/db`.
 * `newStamp` picks the revision of a new database (v3.0.0.d makes it readable by Optuna 3.0/3.1).
 *
 * @example
 * const storage = await openStorage("sqlite:///search.db");
 */
export async function openStorage(url: string, opts: { newStamp?: Stamp } = {}): Promise<RdbStorage> {
  if (url.startsWith("sqlite:")) return RdbStorage.open(new SqliteDriver(sqlitePath(url)), opts.newStamp);
  if (/^postgres(ql)?(\+\w+)?:\/\//.test(url)) {
    return RdbStorage.open(await PostgresDriver.connect(url.replace(/^postgres(ql)?(\+\w+)?:/, "postgresql:")),
      opts.newStamp);
  }
  const scheme = /^([\w+]+):/.exec(url)?.[1];
  throw new StorageUrlError(`storage URL "${url}": ` +
    `${scheme === undefined ? "no scheme" : `the scheme "${scheme}" is not supported`}; ` +
    `use sqlite:///path/to/study.db or postgresql://user:password@host:5432/database`);
}
