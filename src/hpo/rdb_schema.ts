import { WhetError } from "../core/errors.js";
import type { Dialect, SqlDriver, SqlExecutor } from "./sql_driver.js";

/**
 * Optuna's RDB schema (optuna/storages/_rdb/models.py, SCHEMA_VERSION 12), written the way
 * SQLAlchemy's create_all writes it for each dialect: enums as VARCHAR in SQLite and as named
 * enum types in PostgreSQL, then the `version_info` row and the alembic stamp.
 *
 * A new database gets `v3.2.0.a` (Optuna 3.2 to 4.x), whose only change from `v3.0.0.d`
 * (Optuna 3.0 and 3.1) is the index on trials.study_id. An existing database keeps the stamp it
 * has; whet reads and writes both.
 */
export const HEAD_STAMP = "v3.2.0.a";
export const KNOWN_STAMPS = ["v3.0.0.d", "v3.2.0.a"] as const;
export type Stamp = (typeof KNOWN_STAMPS)[number];
const LIBRARY_VERSION: Record<Stamp, string> = { "v3.0.0.d": "3.1.0", "v3.2.0.a": "3.2.0" };
const SCHEMA_VERSION = 12;

const PG_ENUMS: Record<string, string[]> = {
  studydirection: ["NOT_SET", "MINIMIZE", "MAXIMIZE"],
  trialstate: ["RUNNING", "COMPLETE", "PRUNED", "FAIL", "WAITING"],
  trialvaluetype: ["FINITE", "INF_POS", "INF_NEG"],
  trialintermediatevaluetype: ["FINITE", "INF_POS", "INF_NEG", "NAN"],
};

const attrTable = (table: string, owner: string, parent: string): string => `CREATE TABLE ${table} (
\t${table.replace(/s$/, "")}_id {SERIAL} NOT NULL, 
\t${owner} INTEGER, 
\t"key" VARCHAR(512), 
\tvalue_json TEXT, 
\tPRIMARY KEY (${table.replace(/s$/, "")}_id), 
\tUNIQUE (${owner}, "key"), 
\tFOREIGN KEY(${owner}) REFERENCES ${parent} (${owner})
)`;

// Column order, names and constraints as Optuna 3.1 creates them (checked against its SQLite file).
const TABLES: string[] = [
  `CREATE TABLE studies (\n\tstudy_id {SERIAL} NOT NULL, \n\tstudy_name VARCHAR(512) NOT NULL, ` +
    `\n\tPRIMARY KEY (study_id)\n)`,
  `CREATE UNIQUE INDEX ix_studies_study_name ON studies (study_name)`,
  `CREATE TABLE version_info (\n\tversion_info_id INTEGER NOT NULL, \n\tschema_version INTEGER, ` +
    `\n\tlibrary_version VARCHAR(256), \n\tPRIMARY KEY (version_info_id), \n\tCHECK (version_info_id=1)\n)`,
  `CREATE TABLE study_directions (\n\tstudy_direction_id {SERIAL} NOT NULL, ` +
    `\n\tdirection {ENUM:studydirection:8} NOT NULL, \n\tstudy_id INTEGER NOT NULL, \n\tobjective INTEGER NOT NULL, ` +
    `\n\tPRIMARY KEY (study_direction_id), \n\tUNIQUE (study_id, objective), ` +
    `\n\tFOREIGN KEY(study_id) REFERENCES studies (study_id)\n)`,
  attrTable("study_user_attributes", "study_id", "studies"),
  attrTable("study_system_attributes", "study_id", "studies"),
  `CREATE TABLE trials (\n\ttrial_id {SERIAL} NOT NULL, \n\tnumber INTEGER, \n\tstudy_id INTEGER, ` +
    `\n\tstate {ENUM:trialstate:8} NOT NULL, \n\tdatetime_start {DATETIME}, \n\tdatetime_complete {DATETIME}, ` +
    `\n\tPRIMARY KEY (trial_id), \n\tFOREIGN KEY(study_id) REFERENCES studies (study_id)\n)`,
  attrTable("trial_user_attributes", "trial_id", "trials"),
  attrTable("trial_system_attributes", "trial_id", "trials"),
  `CREATE TABLE trial_params (\n\tparam_id {SERIAL} NOT NULL, \n\ttrial_id INTEGER, \n\tparam_name VARCHAR(512), ` +
    `\n\tparam_value {FLOAT}, \n\tdistribution_json TEXT, \n\tPRIMARY KEY (param_id), ` +
    `\n\tUNIQUE (trial_id, param_name), \n\tFOREIGN KEY(trial_id) REFERENCES trials (trial_id)\n)`,
  `CREATE TABLE trial_values (\n\ttrial_value_id {SERIAL} NOT NULL, \n\ttrial_id INTEGER NOT NULL, ` +
    `\n\tobjective INTEGER NOT NULL, \n\tvalue {FLOAT}, \n\tvalue_type {ENUM:trialvaluetype:7} NOT NULL, ` +
    `\n\tPRIMARY KEY (trial_value_id), \n\tUNIQUE (trial_id, objective), \n\tFOREIGN KEY(trial_id) REFERENCES trials ` +
    `(trial_id)\n)`,
  `CREATE TABLE trial_intermediate_values (\n\ttrial_intermediate_value_id {SERIAL} NOT NULL, ` +
    `\n\ttrial_id INTEGER NOT NULL, \n\tstep INTEGER NOT NULL, \n\tintermediate_value {FLOAT}, ` +
    `\n\tintermediate_value_type {ENUM:trialintermediatevaluetype:7} NOT NULL, ` +
    `\n\tPRIMARY KEY (trial_intermediate_value_id), \n\tUNIQUE (trial_id, step), ` +
    `\n\tFOREIGN KEY(trial_id) REFERENCES trials (trial_id)\n)`,
  `CREATE TABLE trial_heartbeats (\n\ttrial_heartbeat_id {SERIAL} NOT NULL, \n\ttrial_id INTEGER NOT NULL, ` +
    `\n\theartbeat {DATETIME} NOT NULL, \n\tPRIMARY KEY (trial_heartbeat_id), \n\tUNIQUE (trial_id), ` +
    `\n\tFOREIGN KEY(trial_id) REFERENCES trials (trial_id)\n)`,
  `CREATE TABLE alembic_version (\n\tversion_num VARCHAR(32) NOT NULL, \n\tCONSTRAINT alembic_version_pkc PRIMARY ` +
    `KEY (version_num)\n)`,
];

const STUDY_ID_INDEX = "CREATE INDEX ix_trials_study_id ON trials (study_id)";

function render(ddl: string, dialect: Dialect): string {
  const pgsql = dialect === "postgresql";
  return ddl
    .replace(/\{SERIAL\}/g, pgsql ? "SERIAL" : "INTEGER")
    .replace(/\{FLOAT\}/g, pgsql ? "FLOAT(53)" : "FLOAT")
    .replace(/\{DATETIME\}/g, pgsql ? "TIMESTAMP WITHOUT TIME ZONE" : "DATETIME")
    .replace(/\{ENUM:(\w+):(\d+)\}/g, (_m, name: string, len: string) => (pgsql ? name : `VARCHAR(${len})`));
}

/** The DDL of a new database, in order. */
export function schemaStatements(dialect: Dialect, stamp: Stamp): string[] {
  const enums = dialect === "postgresql"
    ? Object.entries(PG_ENUMS).map(([n, v]) => `CREATE TYPE ${n} AS ENUM (${v.map((x) => `'${x}'`).join(", ")})`)
    : [];
  const tables = TABLES.map((t) => render(t, dialect));
  return [...enums, ...tables.slice(0, 7), ...(stamp === "v3.2.0.a" ? [STUDY_ID_INDEX] : []), ...tables.slice(7)];
}

async function tableExists(tx: SqlExecutor, dialect: Dialect, name: string): Promise<boolean> {
  const rows = dialect === "sqlite"
    ? await tx.all("SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?", [name])
    : await tx.all("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename = ?", [name]);
  return rows.length > 0;
}

/**
 * Creates Optuna's tables when the database has none, and returns the stamp in force. Runs under
 * the write lock (an advisory lock in PostgreSQL), so workers starting together create them once.
 */
export async function ensureSchema(db: SqlDriver, newStamp: Stamp = HEAD_STAMP): Promise<Stamp> {
  return db.transaction(async (tx) => {
    if (db.dialect === "postgresql") await tx.run("SELECT pg_advisory_xact_lock(712001)");
    if (await tableExists(tx, db.dialect, "alembic_version")) {
      const rows = await tx.all<{ version_num: string }>("SELECT version_num FROM alembic_version");
      const stamp = rows[0]?.version_num;
      if (!(KNOWN_STAMPS as readonly string[]).includes(stamp)) {
        throw new WhetError(`${db.where} holds an Optuna database at schema revision ${stamp ?? "(none)"}; ` +
          `whet reads ${KNOWN_STAMPS.join(" and ")} (Optuna 3.0 to 4.x): ` +
          'upgrade it with "optuna storage upgrade --storage URL"');
      }
      return stamp as Stamp;
    }
    if (await tableExists(tx, db.dialect, "studies")) {
      throw new WhetError(`${db.where} has a "studies" table but no alembic_version: it is not an Optuna database ` +
        `whet can use`);
    }
    for (const sql of schemaStatements(db.dialect, newStamp)) await tx.run(sql);
    await tx.run("INSERT INTO version_info (version_info_id, schema_version, library_version) VALUES (1, ?, ?)",
      [SCHEMA_VERSION, LIBRARY_VERSION[newStamp]]);
    await tx.run("INSERT INTO alembic_version (version_num) VALUES (?)", [newStamp]);
    return newStamp;
  });
}
