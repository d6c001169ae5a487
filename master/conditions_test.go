package master

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/conf"
	"github.com/ferry-migrate/ferry/internal/testkit/ossproxy"
	"github.com/ferry-migrate/ferry/internal/testkit/testserver"
	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/storage/local"
	"github.com/ferry-migrate/ferry/task"
)

// careless is a store that takes every write and enforces no condition,
// as a server that ignores the headers would (and has no multipart).
type careless struct {
	storage.Backend
	puts atomic.Int64
}

func (c *careless) Put(ctx context.Context, key string, body io.Reader, info storage.ObjectInfo) (storage.ObjectInfo, error) {
	c.puts.Add(1)
	info.Condition = storage.Condition{}
	return c.Backend.Put(ctx, key, body, info)
}

// broken is a store whose every look fails as a dropped connection
// would: a probe of it cannot tell.
type broken struct{ storage.Backend }

func (broken) Stat(context.Context, string) (storage.ObjectInfo, error) {
	return storage.ObjectInfo{}, errors.New("connection reset by peer")
}

// The destination is probed once per job: one warning naming the window
// where it enforces nothing, kept for stat; nothing where it enforces all;
// no probe for a policy that promises nothing, nor for an audit; and the
// scratch object is gone afterwards. What it found of create-only writes
// is what the master tells workers (CreateOnlyEnforced): nothing before
// the probe, nor after one that could not tell.
func TestProbeWrites(t *testing.T) {
	for _, tc := range []struct {
		name            string
		careless        bool
		broken          bool
		policy          string
		audit           bool
		probed          bool
		race            string // in the residual; "" = none
		enforced, known bool   // CreateOnlyEnforced after the probe
	}{
		{"enforcing destination", false, false, "never", false, true, "", true, true},
		{"careless destination", true, false, "if-source-newer", false, true, "does not enforce put if-absent, put if-match, complete-multipart if-absent", false, true},
		{"probe cannot tell", false, true, "never", false, true, "unknown: probing", false, false},
		{"policy always", true, false, "always", false, false, "", false, true},
		{"audit", true, false, "never", true, false, "", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			lb, err := local.New(dir, local.Options{})
			require.NoError(t, err)
			dst := &careless{Backend: lb}
			var logs bytes.Buffer
			m := &Manager{log: slog.New(slog.NewTextHandler(&logs, nil))}
			cfg := &conf.Job{Name: "j", Type: conf.JobImport}
			cfg.Overwrite = task.OverwritePolicy(tc.policy)
			if tc.audit {
				cfg.Type = conf.JobAudit
			}
			jr := &jobRun{name: "j", cfg: cfg}
			m.jobs = map[string]*jobRun{"j": jr}
			var b storage.Backend = lb
			switch {
			case tc.careless:
				b = dst
			case tc.broken:
				b = broken{lb}
			}
			if cfg.WritesConditionally() {
				_, known := m.CreateOnlyEnforced("j")
				assert.False(t, known, "no answer before the probe")
			}
			m.probeWrites(t.Context(), jr, cfg, b)
			m.probeWrites(t.Context(), jr, cfg, b) // once per job
			assert.Equal(t, tc.probed, jr.writeRaceProbed)
			enforced, known := m.CreateOnlyEnforced("j")
			assert.Equal(t, tc.enforced, enforced, "create-only enforced")
			assert.Equal(t, tc.known, known, "answer known")
			if tc.race == "" {
				assert.Empty(t, jr.writeRace)
				assert.NotContains(t, logs.String(), "race window")
			} else {
				assert.Contains(t, jr.writeRace, tc.race)
				warning := "race window"
				if tc.broken {
					warning = "could not be probed"
				}
				assert.Equal(t, 1, strings.Count(logs.String(), warning), logs.String())
			}
			if tc.careless && tc.probed {
				first := dst.puts.Load()
				assert.Positive(t, first)
				m.probeWrites(t.Context(), jr, cfg, b)
				assert.Equal(t, first, dst.puts.Load(), "not probed again")
			}
			left, err := os.ReadDir(dir)
			require.NoError(t, err)
			assert.Empty(t, left, "the probe leaves nothing behind in %s", filepath.Base(dir))
		})
	}
}

// The race window a destination leaves open is found at submit and kept in
// the job's record, so stat shows it after a restart (and after a ferry
// run has ended). The OSS flavour has no If-Match on writes: a replacement
// can clobber, and the window says so.
func TestManagerKeepsTheWriteRaceWithTheJob(t *testing.T) {
	srv := testserver.Versitygw(t, testserver.Options{VirtualDomain: "localhost"})
	proxy := ossproxy.Start(t, srv)
	put := buckets(t, srv, "rsrc", "rdst")
	put("rsrc", "k0")
	side := func(p, bucket string) string {
		return strings.Join([]string{p + "Type=oss", p + "Domain=" + proxy.Endpoint, p + "Bucket=" + bucket,
			p + "AccessKey=" + srv.AccessKey, p + "SecretKey=" + srv.SecretKey, p + "CABundle=" + srv.Cert.CertFile}, "\n")
	}
	cfg := strings.Join([]string{"jobName=race", "overwritePolicy=if-source-newer", side("src", "rsrc"), side("dest", "rdst")}, "\n") + "\n"

	h := newHarness(t)
	job := h.submit(cfg)
	race := h.stat(job).WriteRace
	assert.Contains(t, race, "if-match", "OSS cannot replace exactly what was checked")
	assert.NotContains(t, race, "put if-absent", "x-oss-forbid-overwrite is enforced by the proxy")

	h.restart()
	assert.Equal(t, race, h.stat(job).WriteRace, "kept in the job's record")
}
