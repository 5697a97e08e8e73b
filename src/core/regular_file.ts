import { statSync } from "node:fs";
import { WhetError } from "./errors.js";

/**
 * Throws unless `path` (symlinks followed) is a regular file: a model folder's config.json or
 * weights that are a FIFO, a device (a link to /dev/zero) or a folder would hang or read forever.
 * Call before opening: opening a FIFO already blocks.
 */
export function assertRegularFile(path: string, doing = "Reading"): void {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st || st.isFile()) return; // a missing file is reported by the read itself
  const kind = st.isDirectory() ? "a folder" : st.isFIFO() ? "a FIFO (named pipe)" : st.isCharacterDevice() ? "a character device"
    : st.isBlockDevice() ? "a block device" : st.isSocket() ? "a socket" : "not a regular file";
  throw new WhetError(`${doing} ${path}: it is ${kind}; expected a regular file`);
}
