import Database from "better-sqlite3";
import { WhetError } from "../core/errors.js";
import { SerialQueue, type Row, type SqlDriver, type SqlExecutor } from "./sql_driver.js";

/**
 * SQLite through better-sqlite3. Writers take the database lock up front (BEGIN IMMEDIATE) and
 * wait up to `busyTimeoutMs` for it, so any number of worker processes can share one file;
 * the journal mode stays SQLite's default, as Optuna leaves it, so Python sees an ordinary file.
 */
export class SqliteDriver implements SqlDriver {
  readonly dialect = "sqlite" as const;
  private readonly db: Database.Database;
  private readonly queue = new SerialQueue();

  constructor(readonly where: string, busyTimeoutMs = 60_000) {
    try {
      this.db = new Database(where, { timeout: busyTimeoutMs });
    } catch (e) {
      throw new WhetError(`cannot open the SQLite database ${where}: ${(e as Error).message}`);
    }
    this.db.pragma("foreign_keys = ON");
  }

  private exec: SqlExecutor = {
    all: async <T extends Row>(sql: string, params: readonly unknown[] = []) =>
      this.db.prepare(sql).all(...toSqlite(params)) as T[],
    run: async (sql: string, params: readonly unknown[] = []) => {
      const st = this.db.prepare(sql);
      if (st.reader) {
        const rows = st.all(...toSqlite(params)) as Row[];
        return { changes: rows.length, rows };
      }
      return { changes: st.run(...toSqlite(params)).changes, rows: [] };
    },
  };

  all<T extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<T[]> {
    return this.queue.run(() => this.exec.all<T>(sql, params));
  }

  run(sql: string, params?: readonly unknown[]): Promise<{ changes: number; rows: Row[] }> {
    return this.queue.run(() => this.exec.run(sql, params));
  }

  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.queue.run(async () => {
      this.db.exec("BEGIN IMMEDIATE");
      try {
        const out = await fn(this.exec);
        this.db.exec("COMMIT");
        return out;
      } catch (e) {
        if (this.db.inTransaction) this.db.exec("ROLLBACK");
        throw e;
      }
    });
  }

  async close(): Promise<void> {
    await this.queue.run(async () => this.db.close());
  }
}

function toSqlite(params: readonly unknown[]): unknown[] {
  return params.map((p) => (typeof p === "boolean" ? (p ? 1 : 0) : p));
}
