package observe

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/master"
	"github.com/ferry-migrate/ferry/task"
	"github.com/ferry-migrate/ferry/tracker"
)

func TestMetricNames(t *testing.T) {
	cases := []struct {
		expr string
		want []string
	}{
		{`ferry_workers`, []string{"ferry_workers"}},
		{`sum by (ferry_job, outcome) (rate(ferry_objects_total{ferry_job=~"$job",x="a}b"}[$__rate_interval]))`,
			[]string{"ferry_objects_total"}},
		{`histogram_quantile(0.95, sum by (le) (rate(x_bucket[5m])))`, []string{"x_bucket"}},
		{`a / on (ferry_job) group_left (outcome) b offset 5m`, []string{"a", "b"}},
		{`sum without (instance) (up) > bool 1e3 and c or d unless e`, []string{"up", "c", "d", "e"}},
		{`label_replace(m, "dst", "$1", "src", "(.*)")`, []string{"m"}},
	}
	for _, tc := range cases {
		t.Run(tc.expr, func(t *testing.T) {
			assert.Equal(t, tc.want, MetricNames(tc.expr))
		})
	}
}

// exportedNames are the names of the series ferry exports, from the same
// registrations as the commands make, after a sample of every kind of
// observation (a histogram's series appear once observed).
func exportedNames(t *testing.T) map[string]bool {
	t.Helper()
	reg := NewRegistry()
	src := &fakeMaster{stats: []master.JobStat{{Job: "j", State: "running",
		Totals: tracker.Counters{Verified: 1, Methods: map[task.Method]int64{task.MethodCRC64: 1}}}},
		workers: []master.WorkerInfo{{Worker: "w", Alive: true, LastSeen: time.Now()}}}
	reg.MustRegister(NewMasterCollector(src))
	w := NewWorkerMetrics(reg)
	w.ObjectStarted("j")
	w.ObjectDone("j", task.Result{Status: task.StatusFailed, Class: "permanent", Attempts: 2}, true)
	w.BytesSent("j", 1)
	w.Retried("j")
	w.Throttled("j")
	mfs, err := reg.Gather()
	require.NoError(t, err)
	names := map[string]bool{}
	for _, mf := range mfs {
		names[mf.GetName()] = true
		if mf.GetType() == dto.MetricType_HISTOGRAM || mf.GetType() == dto.MetricType_SUMMARY {
			for _, s := range []string{"_bucket", "_sum", "_count"} {
				names[mf.GetName()+s] = true
			}
		}
	}
	return names
}

// Every PromQL expression of the Grafana dashboard names only metrics
// ferry exports, so a renamed metric cannot leave a panel silently empty.
func TestGrafanaDashboardUsesExportedMetrics(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "deploy", "grafana", "ferry.json"))
	require.NoError(t, err)
	var dash struct {
		Title  string
		Panels []grafanaPanel
	}
	require.NoError(t, json.Unmarshal(b, &dash), "the dashboard is JSON")
	exported := exportedNames(t)
	var exprs []string
	var walk func([]grafanaPanel)
	walk = func(ps []grafanaPanel) {
		for _, p := range ps {
			for _, tg := range p.Targets {
				exprs = append(exprs, tg.Expr)
			}
			walk(p.Panels)
		}
	}
	walk(dash.Panels)
	require.NotEmpty(t, exprs)
	used := map[string]bool{}
	for _, e := range exprs {
		names := MetricNames(e)
		assert.NotEmpty(t, names, "expression names no metric: %s", e)
		for _, n := range names {
			used[n] = true
			assert.True(t, exported[n], "dashboard expression uses %q, which ferry does not export: %s", n, e)
		}
	}
	// The panels the dashboard promises (docs/metrics.md).
	for _, n := range []string{"ferry_bytes_sent_total", "ferry_objects_total", "ferry_worker_failures_total", "ferry_shards",
		"ferry_workers", "ferry_leases_granted_total", "ferry_leases_expired_total", "ferry_slowdowns_total",
		"ferry_scan_listed_objects"} {
		assert.True(t, used[n], "the dashboard has no panel on %s", n)
	}
}

type grafanaPanel struct {
	Targets []struct{ Expr string }
	Panels  []grafanaPanel // a collapsed row's
}

// docs/metrics.md lists every ferry_* metric exported (a table row
// each), and nothing else.
func TestMetricsDocumented(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "metrics.md"))
	require.NoError(t, err)
	documented := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^\\| `(ferry_[a-z_]+)` \\|").FindAllStringSubmatch(string(b), -1) {
		documented[m[1]] = true
	}
	exported := exportedNames(t)
	var missing []string
	for n := range exported {
		if !strings.HasPrefix(n, "ferry_") {
			continue
		}
		base := n
		for _, s := range []string{"_bucket", "_sum", "_count"} {
			if b, ok := strings.CutSuffix(n, s); ok && exported[b] {
				base = b // a histogram's series: documented under its name
			}
		}
		if !documented[base] {
			missing = append(missing, n)
		}
	}
	sort.Strings(missing)
	assert.Empty(t, missing, "exported but not in docs/metrics.md")
	for n := range documented {
		assert.True(t, exported[n], "docs/metrics.md lists %s, which ferry does not export", n)
	}
}

var _ prometheus.Collector = (*MasterCollector)(nil)
