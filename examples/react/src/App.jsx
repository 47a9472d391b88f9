import { useEffect, useMemo, useState } from "react";
import { WhetstoneClient } from "whetstone-client";

import { useOptimization } from "./useOptimization.js";

// The key stays in this browser's localStorage, never in the URL; the job id may be
// given as ?job=<id>.
const KEY_STORAGE = "whetstone-example.apiKey";
const BASE_STORAGE = "whetstone-example.baseUrl";

function readStored(name) {
  try {
    return localStorage.getItem(name) ?? "";
  } catch {
    return "";
  }
}

function store(name, value) {
  try {
    if (value) localStorage.setItem(name, value);
    else localStorage.removeItem(name);
  } catch {
    // storage disabled: the value lasts for this page only
  }
}

export default function App() {
  const [form, setForm] = useState(() => ({
    baseUrl: readStored(BASE_STORAGE),
    apiKey: readStored(KEY_STORAGE),
    jobId: new URLSearchParams(location.search).get("job") ?? "",
  }));
  const [target, setTarget] = useState(null); // what is being followed

  function follow(e) {
    e.preventDefault();
    const baseUrl = form.baseUrl.trim();
    const apiKey = form.apiKey.trim();
    const jobId = form.jobId.trim();
    if (!apiKey || !jobId) return;
    store(BASE_STORAGE, baseUrl);
    store(KEY_STORAGE, apiKey);
    const url = new URL(location.href);
    url.searchParams.set("job", jobId);
    history.replaceState(null, "", url);
    setTarget({ baseUrl, apiKey, jobId });
  }

  const edit = (field) => (e) => setForm({ ...form, [field]: e.target.value });

  return (
    <main>
      <h1>Whetstone · live job</h1>
      <form onSubmit={follow} className="settings">
        <label>
          Base URL
          <input
            value={form.baseUrl}
            onChange={edit("baseUrl")}
            placeholder="empty: this page's origin (the dev server proxies to Whetstone)"
          />
        </label>
        <label>
          API key
          <input
            type="password"
            autoComplete="off"
            value={form.apiKey}
            onChange={edit("apiKey")}
            placeholder="wst_… (whetstone keys create)"
          />
        </label>
        <label>
          Job id
          <input value={form.jobId} onChange={edit("jobId")} placeholder="job id" />
        </label>
        <button type="submit" disabled={!form.apiKey.trim() || !form.jobId.trim()}>
          Follow
        </button>
      </form>
      {target && <JobView key={`${target.baseUrl} ${target.apiKey}`} {...target} />}
    </main>
  );
}

function JobView({ baseUrl, apiKey, jobId }) {
  // One client per base URL and key; JobView is remounted (key=…) when they change.
  const client = useMemo(() => new WhetstoneClient({ baseUrl, apiKey }), [baseUrl, apiKey]);
  useEffect(() => () => client.close(), [client]);

  const { status, iteration, events, bestScore, best, connectionState, error, done } =
    useOptimization(client, jobId);
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState(null);

  async function act(action) {
    setBusy(true);
    setActionError(null);
    try {
      await client.optimizations[action](jobId);
    } catch (err) {
      setActionError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="job">
      <dl>
        <dt>Job</dt>
        <dd>
          <code>{jobId}</code>
        </dd>
        <dt>Connection</dt>
        <dd className={`conn conn-${connectionState}`}>{connectionState}</dd>
        <dt>Status</dt>
        <dd>{status ?? "…"}</dd>
        <dt>Iteration</dt>
        <dd>{iteration ?? "–"}</dd>
        <dt>Best score</dt>
        <dd>{bestScore == null ? "–" : bestScore.toFixed(3)}</dd>
      </dl>
      <div className="actions">
        <button onClick={() => act("pause")} disabled={busy || done || status !== "running"}>
          Pause
        </button>
        <button onClick={() => act("resume")} disabled={busy || done || status !== "paused"}>
          Resume
        </button>
        <button onClick={() => act("cancel")} disabled={busy || done}>
          Cancel
        </button>
      </div>
      {error && (
        <p className="error">
          {error.code}: {error.message}
        </p>
      )}
      {actionError && (
        <p className="error">
          {actionError.code}: {actionError.message}
        </p>
      )}
      {best?.prompt && (
        <>
          <h2>Best prompt</h2>
          <pre>{promptText(best.prompt)}</pre>
        </>
      )}
      <h2>Last events</h2>
      <ol className="events" reversed>
        {events
          .slice()
          .reverse()
          .map((e) => (
            <li key={e.id} value={e.id}>
              <code>{e.eventType}</code> · iteration {e.iteration}
              {typeof e.data?.score === "number" && <> · score {e.data.score.toFixed(3)}</>}
            </li>
          ))}
      </ol>
    </section>
  );
}

function promptText(prompt) {
  if (typeof prompt.template === "string") return prompt.template;
  if (Array.isArray(prompt.messages)) {
    return prompt.messages.map((m) => `[${m.role}] ${m.content}`).join("\n\n");
  }
  return JSON.stringify(prompt, null, 2);
}
