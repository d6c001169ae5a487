// ferry dashboard: keeps the server-rendered page current from the JSON
// API, draws the throughput chart, and sends the operator's actions with
// the session's CSRF token. No framework, no build step.
"use strict";

(function () {
  const POLL_MS = 3000;
  const csrf = document.body.dataset.csrf || "";

  function iec(n) {
    const unit = 1024;
    if (n < unit) return Math.round(n) + " B";
    let div = unit, exp = 0;
    for (let m = n / unit; m >= unit; m /= unit) { div *= unit; exp++; }
    return (n / div).toFixed(1) + " " + "KMGTPE"[exp] + "iB";
  }
  function pct(done, of) { return of > 0 ? Math.min(100, 100 * done / of) : 0; }
  function duration(s) {
    s = Math.round(s);
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    return (h ? h + "h" : "") + (h || m ? m + "m" : "") + sec + "s";
  }

  // fields maps a job from /api/jobs to [raw value, text] per data-k.
  function fields(j) {
    const c = j.counters;
    const rate = j.bytes_per_second == null ? "–" :
      iec(j.bytes_per_second) + "/s, " + j.objects_per_second.toFixed(1) + " objects/s";
    let eta = "–";
    if (j.eta_seconds != null) eta = (j.eta_lower_bound ? "≥ " : "") + duration(j.eta_seconds) + (j.eta_lower_bound ? " (still listing)" : "");
    let limits = "";
    if (j.bytes_per_second_limit) limits += iec(j.bytes_per_second_limit) + "/s ";
    if (j.objects_per_second_limit) limits += j.objects_per_second_limit + " objects/s";
    return {
      state: [j.job_state, j.job_state],
      objects_done: [j.objects_done, String(j.objects_done)],
      scanned: [c.Scanned, String(c.Scanned)],
      verified: [c.Verified, String(c.Verified)],
      failed: [c.Failed, String(c.Failed)],
      bytes_done: [j.bytes_done, iec(j.bytes_done)],
      scanned_bytes: [c.ScannedBytes, iec(c.ScannedBytes)],
      verified_bytes: [c.VerifiedBytes, iec(c.VerifiedBytes)],
      objects_pct: [pct(j.objects_done, c.Scanned), null],
      bytes_pct: [pct(j.bytes_done, c.ScannedBytes), null],
      rate: [j.bytes_per_second == null ? "" : j.bytes_per_second, rate],
      eta: [j.eta_seconds == null ? "" : j.eta_seconds, eta],
      limits: [limits, limits],
      problem: [j.problem || "", j.problem || ""],
    };
  }

  function update(jobs) {
    const shown = new Set(Array.from(document.querySelectorAll("tr.job, table.job")).map(e => e.dataset.name));
    const overview = document.getElementById("jobs") !== null;
    if (overview && (jobs.length !== shown.size || jobs.some(j => !shown.has(j.job_name)))) {
      location.reload(); // a job came or went: the server renders the new rows
      return;
    }
    for (const j of jobs) {
      const f = fields(j);
      for (const el of document.querySelectorAll("[data-job]")) {
        if (el.dataset.job !== j.job_name || !el.dataset.k || !(el.dataset.k in f)) continue;
        const [v, text] = f[el.dataset.k];
        if (el.tagName === "PROGRESS") { el.value = v; continue; }
        el.dataset.v = String(v);
        el.textContent = text;
      }
      for (const b of document.querySelectorAll("button.act")) {
        if (b.dataset.job !== j.job_name) continue;
        b.hidden = (b.dataset.action === "pause" && j.job_state !== "running") ||
                   (b.dataset.action === "resume" && j.job_state !== "paused");
      }
    }
  }

  async function getJSON(url) {
    const r = await fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } });
    if (r.status === 401) { location.href = "/login"; throw new Error("logged out"); }
    if (!r.ok) throw new Error(url + ": " + r.status);
    return r.json();
  }

  async function poll() {
    try {
      const jobs = await getJSON("/api/jobs");
      const name = document.getElementById("job-name");
      update(name ? jobs.filter(j => j.job_name === name.textContent) : jobs);
      await drawChart();
    } catch (e) {
      console.warn("ferry dashboard:", e);
    }
  }

  // drawChart plots bytes/s over time, summed over the jobs it is given.
  async function drawChart() {
    const cv = document.getElementById("chart");
    if (!cv) return;
    const h = await getJSON(cv.dataset.src);
    const sum = new Map();
    for (const pts of Object.values(h.jobs)) {
      for (const p of pts) sum.set(p.t, (sum.get(p.t) || 0) + p.bytes_per_second);
    }
    const pts = Array.from(sum.entries()).sort((a, b) => a[0] - b[0]);
    const ctx = cv.getContext("2d");
    const W = cv.width, H = cv.height, L = 70, B = 20, T = 10;
    ctx.clearRect(0, 0, W, H);
    ctx.font = "11px sans-serif";
    ctx.fillStyle = "#666";
    if (pts.length < 2) { ctx.fillText("collecting samples…", L, H / 2); return; }
    const t0 = pts[0][0], t1 = pts[pts.length - 1][0];
    const ymax = Math.max(1, ...pts.map(p => p[1])) * 1.1;
    const x = t => L + (W - L - 10) * (t - t0) / Math.max(1, t1 - t0);
    const y = v => H - B - (H - B - T) * v / ymax;
    ctx.strokeStyle = "#ddd";
    for (let i = 0; i <= 4; i++) {
      const v = ymax * i / 4;
      ctx.beginPath(); ctx.moveTo(L, y(v)); ctx.lineTo(W - 10, y(v)); ctx.stroke();
      ctx.fillText(iec(v) + "/s", 2, y(v) + 4);
    }
    ctx.fillText(new Date(t0 * 1000).toLocaleTimeString(), L, H - 4);
    ctx.fillText(new Date(t1 * 1000).toLocaleTimeString(), W - 80, H - 4);
    ctx.strokeStyle = "#1f6feb";
    ctx.lineWidth = 2;
    ctx.beginPath();
    pts.forEach((p, i) => (i ? ctx.lineTo(x(p[0]), y(p[1])) : ctx.moveTo(x(p[0]), y(p[1]))));
    ctx.stroke();
  }

  async function post(url, body) {
    const r = await fetch(url, { method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": csrf }, body: body });
    const out = await r.json().catch(() => ({}));
    if (!r.ok) alert("ferry: " + (out.error || r.status));
    return out;
  }

  document.addEventListener("click", async ev => {
    const b = ev.target.closest("button.act");
    if (!b) return;
    b.disabled = true;
    try {
      await post("/api/jobs/" + encodeURIComponent(b.dataset.job) + "/" + b.dataset.action, null);
      await poll();
    } finally {
      b.disabled = false;
    }
  });

  document.addEventListener("submit", async ev => {
    const f = ev.target;
    if (f.id !== "throttle") return;
    ev.preventDefault();
    await post("/api/jobs/" + encodeURIComponent(f.dataset.job) + "/throttle", new FormData(f));
    await poll();
  });

  poll();
  setInterval(poll, POLL_MS);
})();
