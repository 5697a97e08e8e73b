/**
 * The little SQL both back ends need: statements with `?` placeholders, row objects back, and a
 * write transaction that holds the database's lock (SQLite's BEGIN IMMEDIATE, PostgreSQL's row
 * locks) while it runs. One connection per driver; statements are queued so that an awaited
 * transaction never interleaves with a heartbeat written by the same process.
 */
export type Row = Record<string, unknown>;

export interface SqlExecutor {
  all<T extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  run(sql: string, params?: readonly unknown[]): Promise<{ changes: number; rows: Row[] }>;
}

export type Dialect = "sqlite" | "postgresql";

export interface SqlDriver extends SqlExecutor {
  readonly dialect: Dialect;
  /** a printable name of the database, without passwords */
  readonly where: string;
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Runs tasks one at a time, in order. */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const next = this.tail.then(task, task);
    this.tail = next.catch(() => undefined);
    return next;
  }
}
