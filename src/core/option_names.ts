/**
 * How messages name an option. A library caller wrote `textColumn` (or the run-config key
 * `text_column`); a command-line user typed `--text-column`. Messages name options through
 * these functions, by run-config key, and the `whet` program switches them to flags once at
 * start: the one place where an option's spellings meet.
 *
 * @example
 * throw new WhetError(`no column "text"; choose one with ${optionName("text_column")}`);
 * // library: "… choose one with textColumn"; under `whet`: "… choose one with --text-column"
 * optionSetting("header", false); // library: "header: false"; under `whet`: "--no-header"
 */

/** Keys whose library option (readTable, prepareData, readConll…) is spelt in camel case. */
const API_NAMES: Record<string, string> = {
  text_column: "textColumn",
  text_pair_column: "textPairColumn",
  label_column: "labelColumn",
  label_separator: "labelSeparator",
  label_names: "labelNames",
  problem_type: "problemType",
  validation_split: "validationSplit",
};

let commandLine = false;

/** Name options as flags from now on (the `whet` program calls this once, before parsing). */
export function useCommandLineNames(on = true): void {
  commandLine = on;
}

/** Whether messages are for a command-line user. */
export function namingFlags(): boolean {
  return commandLine;
}

/** `--text-column` under `whet`; else the library's spelling (`api`, default from the table, else the key). */
export function optionName(key: string, api?: string): string {
  return commandLine ? `--${key.replaceAll("_", "-")}` : (api ?? API_NAMES[key] ?? key);
}

/**
 * An option with a value, as the reader would write it: `--text-column 0`, `--no-header`,
 * `--quote` under `whet`; `textColumn: "0"`, `header: false` in code.
 */
export function optionSetting(key: string, value: string | number | boolean | null, api?: string): string {
  if (!commandLine) return `${optionName(key, api)}: ${JSON.stringify(value)}`;
  const flag = optionName(key);
  if (value === true) return flag;
  if (value === false) return `--no-${flag.slice(2)}`;
  return `${flag} ${value}`;
}

/** Several settings together: `--no-header --text-column 0`, or `header: false, textColumn: "0"`. */
export function optionSettings(...settings: [key: string, value: string | number | boolean | null][]): string {
  return settings.map(([k, v]) => optionSetting(k, v)).join(commandLine ? " " : ", ");
}
