import pg from "pg";
import { WhetError } from "../core/errors.js";
import { SerialQueue, type Row, type SqlDriver, type SqlExecutor } from "./sql_driver.js";

// TIMESTAMP WITHOUT TIME ZONE as the text PostgreSQL sends: the naive local times Optuna stores
// must not be shifted by this process's time zone.
const TIMESTAMP_OID = 1114;
const types = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === TIMESTAMP_OID ? (s: string) => s : pg.types.getTypeParser(oid,
      format as "text")) as typeof pg.types.getTypeParser,
};

/** PostgreSQL through the `pg` client: one connection, `?` placeholders rewritten to `$n`. */
export class PostgresDriver implements SqlDriver {
  readonly dialect = "postgresql" as const;
  private readonly queue = new SerialQueue();

  private constructor(private readonly client: pg.Client, readonly where: string) {}

  static async connect(url: string): Promise<PostgresDriver> {
    const where = redact(url);
    const client = new pg.Client({ connectionString: url.replace(/^postgresql\+\w+:/, "postgresql:"), types,
      connectionTimeoutMillis: 15_000 });
    try {
      await client.connect();
    } catch (e) {
      throw new WhetError(`cannot reach the PostgreSQL database ${where}: ` +
        `${(e as Error).message || (e as { code?: string }).code}`);
    }
    // a dropped connection surfaces on the next statement; without a listener it would crash the process
    client.on("error", () => undefined);
    return new PostgresDriver(client, where);
  }

  private exec: SqlExecutor = {
    all: async <T extends Row>(sql: string, params: readonly unknown[] = []) =>
      (await this.client.query(numbered(sql), [...params])).rows as T[],
    run: async (sql: string, params: readonly unknown[] = []) => {
      const r = await this.client.query(numbered(sql), [...params]);
      return { changes: r.rowCount ?? 0, rows: r.rows as Row[] };
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
      await this.client.query("BEGIN");
      try {
        const out = await fn(this.exec);
        await this.client.query("COMMIT");
        return out;
      } catch (e) {
        await this.client.query("ROLLBACK").catch(() => undefined);
        throw e;
      }
    });
  }

  async close(): Promise<void> {
    await this.queue.run(() => this.client.end());
  }
}

/** `?` -> `$1, $2, …` outside string literals. */
function numbered(sql: string): string {
  let i = 0;
  return sql.replace(/'(?:[^']|'')*'|\?/g, (tok) => (tok === "?" ? `$${++i}` : tok));
}

/** The URL without its password, for messages. */
export function redact(url: string): string {
  return url.replace(/(\/\/[^:/@]+):[^@/]*@/, "$1:***@");
}
