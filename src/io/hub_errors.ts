import { WhetError } from "../core/errors.js";

/**
 * Why a Hub operation failed. The first three are the Hub's own `X-Error-Code` values, so a
 * caller can tell a typo in the repo id from a missing file without parsing the message.
 */
export type HubErrorCode =
  | "RepoNotFound" // no such repo, or private and the token (if any) has no access
  | "RevisionNotFound" // the branch, tag or commit does not exist in the repo
  | "EntryNotFound" // the file does not exist at that revision
  | "GatedRepo" // the repo needs its terms accepted and a token
  | "Unauthorized" // 401 / 403 without a more precise code
  | "Http" // any other HTTP status, or a response that is not the Hub's
  | "Network" // DNS, refused connection, reset, timeout
  | "Integrity" // the bytes received do not match the size or sha256 the Hub announced
  | "CacheWrite" // the cache folder cannot be written (permissions, full disk)
  | "NotCached" // offline, and the cache lacks what was asked for
  | "InvalidId" // neither an existing folder nor a valid repo id
  | "LocalNotFound"; // a local folder that does not exist or lacks config.json

/** Raised by the Hub client; `code` says which failure it is, `retryable` whether trying again may help. */
export class HubError extends WhetError {
  constructor(
    message: string,
    readonly code: HubErrorCode,
    readonly retryable = false,
  ) {
    super(message);
  }
}
