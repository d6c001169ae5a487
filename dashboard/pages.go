package dashboard

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"time"

	"github.com/ferry-migrate/ferry/admin/statjson"
	"github.com/ferry-migrate/ferry/master"
)

//go:embed templates/*.html
var templateFS embed.FS

// staticFS serves /static/... (script and style: no job data, so no
// login needed for them).
//
//go:embed static
var staticFS embed.FS

// pages holds the parsed templates.
type pages struct {
	t *template.Template
}

func loadPages() (*pages, error) {
	t, err := template.New("").Funcs(template.FuncMap{
		"iec":     statjson.IEC,
		"percent": percent,
		"rate":    rateText,
		"eta":     etaText,
		"since":   func(t time.Time) string { return since(time.Now(), t) },
	}).ParseFS(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("dashboard templates: %w", err)
	}
	return &pages{t: t}, nil
}

// render executes a template into a buffer first, so a failure is a
// clean 500 rather than half a page.
func (p *pages) render(w http.ResponseWriter, code int, name string, data any) {
	var b bytes.Buffer
	if err := p.t.ExecuteTemplate(&b, name, data); err != nil {
		http.Error(w, "template: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write(b.Bytes())
}

type loginPage struct{ Error string }

// Page is what every logged-in page knows about its viewer.
type Page struct {
	Role     string
	Operator bool
	CSRF     string // the session's; empty for bearer-token callers
	Title    string
}

func (s *Server) page(r *http.Request, title string) Page {
	c := callerOf(r.Context())
	return Page{Role: c.role.String(), Operator: c.role == operator, CSRF: c.csrf, Title: title}
}

type overviewData struct {
	Page
	Jobs    []JobView
	Workers []statjson.Worker
}

func (s *Server) overviewPage(w http.ResponseWriter, r *http.Request) {
	vs, err := s.jobViews("")
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	s.pages.render(w, http.StatusOK, "overview.html", overviewData{Page: s.page(r, "ferry"), Jobs: vs,
		Workers: statjson.Workers(s.cfg.Backend.Workers())})
}

type jobData struct {
	Page
	Job         JobView
	Failed      []statjson.Failed
	FailedLimit int
}

func (s *Server) jobPage(w http.ResponseWriter, r *http.Request) {
	job := r.PathValue("job")
	vs, err := s.jobViews(job)
	if errors.Is(err, master.ErrUnknownJob) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	fs, err := s.failed(job)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	s.pages.render(w, http.StatusOK, "job.html", jobData{Page: s.page(r, "ferry: "+job), Job: vs[0], Failed: fs,
		FailedLimit: s.cfg.FailedLimit})
}

func percent(done, of int64) string {
	if of <= 0 {
		return "0"
	}
	return fmt.Sprintf("%.1f", 100*float64(min(done, of))/float64(of))
}

func rateText(bps, ops *float64) string {
	if bps == nil || ops == nil {
		return "–"
	}
	return fmt.Sprintf("%s/s, %.1f objects/s", statjson.IEC(int64(*bps)), *ops)
}

func etaText(sec *float64, lower bool) string {
	if sec == nil {
		return "–"
	}
	d := (time.Duration(*sec) * time.Second).Round(time.Second).String()
	if lower {
		return "≥ " + d + " (still listing)"
	}
	return d
}
