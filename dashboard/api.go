package dashboard

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ferry-migrate/ferry/admin"
	"github.com/ferry-migrate/ferry/admin/statjson"
	"github.com/ferry-migrate/ferry/master"
)

// JobView is a job as /api/jobs serves it: exactly what `ferry stat
// --json` prints for it (statjson.JobStat, flattened), plus the progress,
// rate and ETA the page derives.
type JobView struct {
	statjson.JobStat
	// ObjectsDone and BytesDone: the current pass's objects (bytes)
	// verified, skipped or failed, of Counters.Scanned (ScannedBytes)
	// listed so far.
	ObjectsDone int64 `json:"objects_done"`
	BytesDone   int64 `json:"bytes_done"`
	// Rates over the last minute of samples; absent until there are two.
	BytesPerSecond   *float64 `json:"bytes_per_second,omitempty"`
	ObjectsPerSecond *float64 `json:"objects_per_second,omitempty"`
	// ETASeconds: listed bytes left at the current byte rate; absent when
	// not running or not moving. While the scan goes on more may be
	// listed, so it is then a lower bound (ETALowerBound).
	ETASeconds    *float64 `json:"eta_seconds,omitempty"`
	ETALowerBound bool     `json:"eta_lower_bound,omitempty"`
}

func (s *Server) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", s.login)
	mux.HandleFunc("POST /login", s.login)
	mux.HandleFunc("POST /logout", s.requireViewer(false, s.logout))
	mux.Handle("GET /static/", http.FileServerFS(staticFS))
	mux.HandleFunc("GET /{$}", s.requireViewer(false, s.overviewPage))
	mux.HandleFunc("GET /jobs/{job}", s.requireViewer(false, s.jobPage))
	mux.HandleFunc("GET /api/jobs", s.requireViewer(true, s.apiJobs))
	mux.HandleFunc("GET /api/jobs/{job}", s.requireViewer(true, s.apiJob))
	mux.HandleFunc("GET /api/jobs/{job}/failed", s.requireViewer(true, s.apiFailed))
	mux.HandleFunc("GET /api/history", s.requireViewer(true, s.apiHistory))
	mux.HandleFunc("GET /api/workers", s.requireViewer(true, s.apiWorkers))
	mux.HandleFunc("POST /api/jobs/{job}/pause", s.requireOperator(s.apiPause))
	mux.HandleFunc("POST /api/jobs/{job}/resume", s.requireOperator(s.apiResume))
	mux.HandleFunc("POST /api/jobs/{job}/throttle", s.requireOperator(s.apiThrottle))
	// Anything else: 401 before 404 for a stranger, so unknown paths do
	// not tell apart what exists.
	mux.HandleFunc("/", s.requireViewer(true, func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such page")
	}))
	return mux
}

// jobViews reads job's stat ("" for all) and adds what the page derives.
func (s *Server) jobViews(job string) ([]JobView, error) {
	ms, err := s.cfg.Backend.Stat(job)
	if err != nil {
		return nil, err
	}
	now := s.cfg.Now()
	as := make([]admin.JobStat, len(ms))
	for i, m := range ms {
		// As admin/remote reads a master: live, read now.
		as[i] = admin.JobStat{JobStat: m, Live: true, Updated: now}
	}
	js := statjson.FromAdmin(as)
	out := make([]JobView, len(js))
	for i, j := range js {
		c := j.Counters
		v := JobView{JobStat: j, ObjectsDone: c.Verified + c.Skipped + c.Failed,
			BytesDone: c.VerifiedBytes + c.SkippedBytes + c.FailedBytes}
		if bps, ops, ok := s.history.rate(j.JobName); ok {
			v.BytesPerSecond, v.ObjectsPerSecond = &bps, &ops
			left := c.ScannedBytes - v.BytesDone
			if j.JobState == "running" && bps > 0 && left >= 0 {
				eta := float64(left) / bps
				v.ETASeconds, v.ETALowerBound = &eta, !j.ScanFinished
			}
		}
		out[i] = v
	}
	return out, nil
}

func (s *Server) apiJobs(w http.ResponseWriter, r *http.Request) {
	vs, err := s.jobViews("")
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, vs)
}

func (s *Server) apiJob(w http.ResponseWriter, r *http.Request) {
	vs, err := s.jobViews(r.PathValue("job"))
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, vs[0])
}

// failed is the first failed objects of a job's current pass, as `ferry
// failed --json` prints them.
func (s *Server) failed(job string) ([]statjson.Failed, error) {
	es, err := s.cfg.Backend.Failed(job, s.cfg.FailedLimit)
	if err != nil {
		return nil, err
	}
	out := make([]statjson.Failed, len(es))
	for i, e := range es {
		out[i] = statjson.FailedOf(e)
	}
	return out, nil
}

func (s *Server) apiFailed(w http.ResponseWriter, r *http.Request) {
	fs, err := s.failed(r.PathValue("job"))
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"failed": fs, "limit": s.cfg.FailedLimit,
		"all": "ferry failed " + r.PathValue("job")})
}

// apiHistory is the throughput series of every job (or ?job=NAME).
func (s *Server) apiHistory(w http.ResponseWriter, r *http.Request) {
	stats, err := s.cfg.Backend.Stat(r.URL.Query().Get("job"))
	if err != nil {
		writeErr(w, err)
		return
	}
	jobs := map[string][]point{}
	for _, st := range stats {
		jobs[st.Job] = s.history.points(st.Job)
	}
	writeJSON(w, http.StatusOK, map[string]any{"interval_seconds": s.cfg.SampleEvery.Seconds(), "jobs": jobs})
}

func (s *Server) apiWorkers(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, statjson.Workers(s.cfg.Backend.Workers()))
}

func (s *Server) apiPause(w http.ResponseWriter, r *http.Request) {
	s.control(w, r, "pause", func(job string) error { return s.cfg.Backend.Pause(r.Context(), job) })
}

func (s *Server) apiResume(w http.ResponseWriter, r *http.Request) {
	s.control(w, r, "resume", func(job string) error { return s.cfg.Backend.Resume(r.Context(), job) })
}

// apiThrottle sets the job's cluster-wide limits from the form fields
// bytes_per_second and objects_per_second (0 or empty: unlimited).
func (s *Server) apiThrottle(w http.ResponseWriter, r *http.Request) {
	bps, err := formNumber(r, "bytes_per_second")
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	ops, err := formNumber(r, "objects_per_second")
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	s.control(w, r, "throttle", func(job string) error {
		return s.cfg.Backend.SetThrottle(r.Context(), job, int64(bps), ops)
	})
}

func formNumber(r *http.Request, name string) (float64, error) {
	v := strings.TrimSpace(r.PostFormValue(name))
	if v == "" {
		return 0, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 || f > 1e18 {
		return 0, fmt.Errorf("%s %q: give a number, 0 for unlimited", name, v)
	}
	return f, nil
}

// control runs an operator's action on the job and answers its state.
func (s *Server) control(w http.ResponseWriter, r *http.Request, what string, act func(job string) error) {
	job := r.PathValue("job")
	if err := act(job); err != nil {
		writeErr(w, err)
		return
	}
	s.cfg.Log.Info("dashboard: "+what, "job", job, "remote", r.RemoteAddr)
	st, err := s.cfg.Backend.Stat(job)
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"job": job, "job_state": st[0].State})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}

// writeErr answers a backend error: 404 for an unknown job, 409 for an
// operation the job's state refuses, 400 for a bad value, else 500.
func writeErr(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, master.ErrUnknownJob):
		writeError(w, http.StatusNotFound, err.Error())
	case errors.Is(err, master.ErrJobState):
		writeError(w, http.StatusConflict, err.Error())
	case errors.Is(err, master.ErrInvalid):
		writeError(w, http.StatusBadRequest, err.Error())
	default:
		writeError(w, http.StatusInternalServerError, err.Error())
	}
}

// since is how long ago t was, rounded for a table.
func since(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return now.Sub(t).Round(time.Second).String() + " ago"
}
