/**
 * Flag spellings people bring from Python: `--learning_rate` (transformers' HfArgumentParser
 * takes both) is read as `--learning-rate`, and renamed TrainingArguments are mapped to the
 * current name with a note (`--evaluation-strategy` → `--eval-strategy`, as transformers 4.46).
 *
 * @example
 * normalizeArgv(["train", "--learning_rate", "3e-5"]);  // ["train", "--learning-rate", "3e-5"]
 */
const RENAMED: Record<string, string> = {
  "--evaluation-strategy": "--eval-strategy",
};

/** argv with Python-style flag spellings rewritten; notes go to `note`. Nothing after `--` is touched. */
export function normalizeArgv(argv: readonly string[], note: (line: string) => void = () => {}): string[] {
  const out: string[] = [];
  let rest = false;
  for (const arg of argv) {
    if (rest || !arg.startsWith("--") || arg === "--") {
      rest ||= arg === "--";
      out.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    let name = (eq < 0 ? arg : arg.slice(0, eq)).replace(/_/g, "-");
    const renamed = RENAMED[name];
    if (renamed) {
      note(`whet: ${name} is called ${renamed} now (as in transformers): reading it as ${renamed}`);
      name = renamed;
    }
    out.push(eq < 0 ? name : name + arg.slice(eq));
  }
  return out;
}
