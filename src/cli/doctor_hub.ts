// `whet doctor`'s Hub reachability check: one short request to HF_ENDPOINT (or huggingface.co),
// none when HF_HUB_OFFLINE is set. Unreachable is reported as information, not a problem:
// whet works offline from local folders, `whet pretrain` and the cache.
import type { Check } from "./doctor_checks.js";

type Env = Record<string, string | undefined>;

/** How long the check waits for any answer from the Hub. */
export const HUB_CHECK_TIMEOUT_MS = 3000;

const OFFLINE_FINE = "fine for offline work: use local model folders, `whet pretrain`, or models already in the cache";

/** Whether the Hub answers (any HTTP status counts: the host is reachable). */
export async function hubReachCheck(env: Env, timeoutMs = HUB_CHECK_TIMEOUT_MS): Promise<Check> {
  if (/^(1|true|yes|on)$/i.test(env.HF_HUB_OFFLINE ?? "")) {
    return { name: "hub-reach", status: "info", detail: `Hub: not contacted (HF_HUB_OFFLINE is set); ${OFFLINE_FINE}` };
  }
  const endpoint = (env.HF_ENDPOINT ?? "https://huggingface.co").replace(/\/+$/, "");
  const started = Date.now();
  try {
    const r = await fetch(`${endpoint}/api/models?limit=1`, { method: "HEAD", signal: AbortSignal.timeout(timeoutMs) });
    await r.body?.cancel();
    return { name: "hub-reach", status: "ok", detail: `Hub: ${endpoint} answers (HTTP ${r.status}, ${Date.now() - started} ms)` };
  } catch (e) {
    const err = e as Error & { cause?: { code?: string; message?: string } };
    const why = err.name === "TimeoutError" ? `no answer within ${timeoutMs / 1000} s` : err.cause?.code ?? err.cause?.message ?? err.message;
    return { name: "hub-reach", status: "info", detail: `Hub: ${endpoint} cannot be reached (${why}); ${OFFLINE_FINE}` };
  }
}
