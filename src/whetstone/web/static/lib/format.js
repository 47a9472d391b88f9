// Formatting for display: scores, money, dates, durations, ids, job statuses.

const DASH = "–";

/** A score in [0, 1] as "0.812"; null/undefined as "–". */
export function score(value, digits = 3) {
  if (value === null || value === undefined || Number.isNaN(value)) return DASH;
  return Number(value).toFixed(digits);
}

/** A signed change, "+0.250" / "−0.010". */
export function delta(value, digits = 3) {
  if (value === null || value === undefined || Number.isNaN(value)) return DASH;
  const sign = value > 0 ? "+" : value < 0 ? "−" : "±";
  return sign + Math.abs(value).toFixed(digits);
}

/** A percentage of a fraction: 0.25 → "25%". */
export function percent(value, digits = 0) {
  if (value === null || value === undefined || !Number.isFinite(value)) return DASH;
  return (value * 100).toFixed(digits) + "%";
}

/** US dollars: "$0.00", "$0.0042", "$12.30". */
export function cost(usd) {
  if (usd === null || usd === undefined || Number.isNaN(usd)) return DASH;
  if (usd === 0) return "$0.00";
  if (Math.abs(usd) < 0.01) return "$" + usd.toFixed(4);
  return "$" + usd.toFixed(2);
}

/** A count with thousands separators. */
export function count(n) {
  if (n === null || n === undefined) return DASH;
  return Number(n).toLocaleString("en-US");
}

/** A date-time in the user's locale, e.g. "24 Nov 2026, 10:00:03". */
export function dateTime(iso) {
  if (!iso) return DASH;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return DASH;
  return d.toLocaleString(undefined, {
    year: "numeric", month: "short", day: "numeric",
    hour: "2-digit", minute: "2-digit", second: "2-digit",
  });
}

/** The time of day only, "10:00:03". */
export function time(iso) {
  if (!iso) return DASH;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return DASH;
  return d.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

/** How long ago, "just now", "5 min ago", "3 h ago", else the date. */
export function ago(iso, now = Date.now()) {
  if (!iso) return DASH;
  const then = new Date(iso).getTime();
  if (Number.isNaN(then)) return DASH;
  const s = Math.max(0, Math.round((now - then) / 1000));
  if (s < 45) return "just now";
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return dateTime(iso);
}

/** A duration between two ISO times (or until now), "1 m 05 s". */
export function duration(startIso, endIso) {
  if (!startIso) return DASH;
  const start = new Date(startIso).getTime();
  const end = endIso ? new Date(endIso).getTime() : Date.now();
  let s = Math.max(0, Math.round((end - start) / 1000));
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  if (h) return `${h} h ${String(m).padStart(2, "0")} m`;
  if (m) return `${m} m ${String(s).padStart(2, "0")} s`;
  return `${s} s`;
}

/** A long id shortened for tables: "job_3k9x…q2" (the full id goes in a title). */
export function shortId(id, keep = 10) {
  if (!id) return DASH;
  return id.length <= keep + 3 ? id : id.slice(0, keep) + "…";
}

export const ACTIVE_STATUSES = new Set(["queued", "running", "paused"]);
export const TERMINAL_STATUSES = new Set(["completed", "failed", "cancelled"]);

/** True for a dry run or any role on the `sim` provider. */
export function isSimulated(job) {
  if (!job) return false;
  if (job.simulated) return true;
  const config = job.config || {};
  if (config.dryRun) return true;
  return ["model", "taskModel", "mutationModel", "judgeModel"].some(
    (k) => typeof config[k] === "string" && config[k].startsWith("sim/"),
  );
}

/** A prompt body ({template} or {messages}) as plain text, for display and diffs. */
export function promptText(body) {
  if (!body) return "";
  if (typeof body === "string") return body;
  if (typeof body.template === "string") return body.template;
  if (Array.isArray(body.messages)) {
    return body.messages.map((m) => `[${m.role}]\n${m.content}`).join("\n\n");
  }
  return "";
}
