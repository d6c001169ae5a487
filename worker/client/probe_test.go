package client

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/internal/testkit/ossproxy"
	"github.com/ferry-migrate/ferry/internal/testkit/testserver"
	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/task"
)

// The master's answer about the destination's create-only writes reaches
// the copier: given one, the worker sends the destination no probe of its
// own and writes as the answer says (create-only without a look first, or
// a look first); without one (an older master, a probe that could not
// tell) it probes, as before, and finds the OSS look-alike enforcing.
func TestCopierTakesTheMastersProbe(t *testing.T) {
	srv := testserver.Versitygw(t, testserver.Options{VirtualDomain: "localhost"})
	proxy := ossproxy.Start(t, srv)
	srv.CreateBucket(t, "pdst")
	yes, no := true, false
	for i, tc := range []struct {
		name   string
		answer *bool
		probes bool // the worker probed the destination itself
		heads  int  // HEADs of the copied object's key
	}{
		{"master says enforced", &yes, false, 0},
		{"master says not enforced", &no, false, 1},
		{"no answer", nil, true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, c, _ := setup(t)
			src := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(src, "k"), []byte("hello"), 0o644))
			prefix := fmt.Sprintf("case%d/", i)
			job := fmt.Sprintf("jobName=j\nsrcType=local\nsrcPrefix=%s/\ndestType=oss\ndestDomain=%s\ndestBucket=pdst\ndestPrefix=%s\n"+
				"destAccessKey=%s\ndestSecretKey=%s\ndestCABundle=%s\n", src, proxy.Endpoint, prefix, srv.AccessKey, srv.SecretKey, srv.Cert.CertFile)
			f.do(func() { f.configs["j"], f.createOnly["j"] = job, tc.answer })

			cp, err := c.CopierFor(t.Context(), "j")
			require.NoError(t, err)
			res, err := cp.Copy(t.Context(), "j", task.Object{Key: "k", Dest: prefix + "k", Size: 5})
			require.NoError(t, err)
			require.Equal(t, task.StatusVerified, res.Status, res.Reason)

			probes := proxy.Keys(func(k string) bool {
				rel, ok := strings.CutPrefix(k, prefix)
				return ok && storage.IsProbeKey(rel)
			})
			if tc.probes {
				assert.Len(t, probes, 1, "the worker's own probe")
			} else {
				assert.Empty(t, probes, "a probe the master already made")
			}
			heads := 0
			for _, s := range proxy.Requests() {
				if s.Key == prefix+"k" && s.Kind == ossproxy.KindHead {
					heads++
				}
			}
			assert.Equal(t, tc.heads, heads, "HEADs before the write")
		})
	}
}
