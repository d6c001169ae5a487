package e2e

import (
	"bufio"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/internal/testkit/testserver"
)

// hotlinkConf protects /site/ with a Referer whitelist that refuses an
// empty Referer (no "none" in valid_referers), as an image host does.
const hotlinkConf = `
	location /site/ {
		valid_referers server_names www.example.com;
		if ($invalid_referer) { return 403; }
	}`

// escapeRel writes a key as a URL list's relative path: percent-encoded
// where a URL needs it (the list's columns are whitespace-separated).
func escapeRel(key string) string {
	var b strings.Builder
	for i := 0; i < len(key); i++ {
		c := key[i]
		if c > ' ' && c < 0x7f && !strings.ContainsRune("%?#\"", rune(c)) {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

// urlListSite serves n objects with odd keys from nginx and writes a URL
// list naming them, with a blank line, a comment, a line with extra
// columns and missing URLs (some with a secret query) among them.
func urlListSite(t *testing.T, n int) (ngx *testserver.Nginx, list string, objs []object, missing []string) {
	t.Helper()
	ngx = testserver.StartNginx(t, testserver.NginxOptions{Server: hotlinkConf})
	odd := []string{"with space", "plus+sign", "literal%20percent", "percent%", "hash#tag", "日本語/ключ", "emoji 🚀", "q?mark", "amp&=,;"}
	var lines []string
	for i := range n {
		key := fmt.Sprintf("img/%03d/obj-%05d.bin", i%97, i)
		if i < len(odd)*3 {
			key = fmt.Sprintf("odd/%s-%d", odd[i%len(odd)], i)
		}
		o := newObject(key, randomBytes(int(i*37%3000), uint64(i)))
		objs = append(objs, o)
		ngx.Write(t, "site/"+key, o.data)
		line := ngx.URL + "/site/ " + escapeRel(key)
		if i == 5 {
			line += "\t12345 extra columns" // OssImport lists often carry sizes or dates
		}
		lines = append(lines, line)
	}
	for i := range 20 {
		key := fmt.Sprintf("gone/missing-%02d.bin", i)
		q := ""
		if i%2 == 0 {
			q = "?token=SECRETTOKEN" + strconv.Itoa(i)
			addSecret("SECRETTOKEN" + strconv.Itoa(i))
		}
		lines = append(lines, ngx.URL+"/site/ "+key+q)
		missing = append(missing, key)
	}
	// The list is in no order: shuffle by a stride, then add the
	// non-object lines in the middle.
	shuffled := make([]string, 0, len(lines)+3)
	for i := range lines {
		shuffled = append(shuffled, lines[(i*7919)%len(lines)])
	}
	mid := len(shuffled) / 2
	shuffled = append(shuffled[:mid], append([]string{"", "# a comment " + ngx.URL + "/site/ not-an-object"}, shuffled[mid:]...)...)
	list = filepath.Join(t.TempDir(), "urls.list")
	require.NoError(t, os.WriteFile(list, []byte(strings.Join(shuffled, "\n")+"\n"), 0o644))
	return ngx, list, objs, missing
}

func httpSrcLines(list string, extra ...string) []string {
	return append([]string{"srcType=http", "httpListFilePath=" + list, "httpPrefixColumn=1", "relativePathColumn=2"}, extra...)
}

// failedLines runs `ferry failed` and returns its lines by key.
func failedLines(t *testing.T, data, job string) map[string]string {
	t.Helper()
	f := runFerry(t, "failed", "--data-dir", data, job)
	wantExit(t, f, 0)
	out := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(f.stdout))
	for sc.Scan() {
		k, _, _ := strings.Cut(sc.Text(), "\t")
		out[k] = sc.Text()
	}
	return out
}

func TestHTTPListHotlinkProtected(t *testing.T) {
	t.Parallel()
	env := newS3Env(t)
	ngx, list, objs, missing := urlListSite(t, 2000)

	t.Run("without srcReferer every object fails with 403", func(t *testing.T) {
		dst := env.s3Side(t, "noreferer")
		data := dataDir(t)
		cfg := writeJob(t, t.TempDir(), "job.cfg", append(append(jobLines("http-noref"), httpSrcLines(list)...), dst.lines("dest")...)...)
		r := runFerry(t, "run", "--data-dir", data, "--progress", "none", "--json", cfg)
		wantExit(t, r, 1)
		rep := parseReport(t, r)
		assert.Equal(t, int64(len(objs)+len(missing)), rep.Counters.Failed, "every listed object failed")
		assert.Zero(t, rep.Counters.Verified)
		failed := failedLines(t, data, "http-noref")
		require.Len(t, failed, len(objs)+len(missing))
		for _, o := range objs[:50] {
			assert.Contains(t, failed[o.Key], "403", o.Key)
		}
		assert.Contains(t, failed[objs[100].Key], ngx.URL+"/site/", "the URL is named")
	})

	t.Run("with srcReferer everything is copied; 404s listed with their URL", func(t *testing.T) {
		dst := env.s3Side(t, "withreferer")
		data := dataDir(t)
		cfg := writeJob(t, t.TempDir(), "job.cfg", append(append(jobLines("http-ref"),
			httpSrcLines(list, "srcReferer=https://www.example.com/gallery", "srcUserAgent=ferry-e2e")...), dst.lines("dest")...)...)
		r := runFerry(t, "run", "--data-dir", data, "--progress", "none", "--json", cfg)
		wantExit(t, r, 1) // the 404s
		rep := parseReport(t, r)
		assert.Equal(t, int64(len(objs)), rep.Counters.Verified)
		assert.Equal(t, int64(len(missing)), rep.Counters.Failed)
		wantSame(t, dst, objs, false)
		failed := failedLines(t, data, "http-ref")
		require.Len(t, failed, len(missing), "%v", failed)
		for _, k := range missing {
			assert.Contains(t, failed[k], "404", k)
			assert.Contains(t, failed[k], ngx.URL+"/site/"+k, "the URL, without its query")
			assert.NotContains(t, failed[k], "token=", k)
		}
	})

	t.Run("resume after kill -9 mid-list", func(t *testing.T) {
		dst := env.s3Side(t, "resumed")
		data := dataDir(t)
		cfg := writeJob(t, t.TempDir(), "job.cfg", append(append(jobLines("http-kill", "maxObjectsPerSecond=400", "taskObjectCountLimit=50"),
			httpSrcLines(list, "srcReferer=https://www.example.com/")...), dst.lines("dest")...)...)
		p := startFerry(t, "run", "--data-dir", data, "--progress", "none", "--json", cfg)
		waitStatus(t, p, data, "http-kill", 60*time.Second, "some objects verified", func(s status) bool { return s.Counters.Verified >= 300 })
		p.Kill()

		log := filepath.Join(filepath.Dir(ngx.ErrorLog), "access.log")
		before := countGETs(t, log)
		r := runFerry(t, "run", "--data-dir", data, "--progress", "none", "--json", cfg)
		wantExit(t, r, 1) // the 404s
		rep := parseReport(t, r)
		assert.Equal(t, int64(len(missing)), rep.Counters.Failed)
		wantSame(t, dst, objs, false)
		again := countGETs(t, log) - before
		// Objects verified before the kill are not read again; those in
		// flight at the kill may be.
		assert.Less(t, again, len(objs)-250, "the second run read %d objects of %d", again, len(objs))
	})
}

// countGETs counts the successful GETs of /site/ in nginx's access log.
func countGETs(t *testing.T, log string) int {
	t.Helper()
	b, err := os.ReadFile(log)
	require.NoError(t, err)
	n := 0
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, `"GET /site/`) && (strings.Contains(l, `" 200 `) || strings.Contains(l, `" 206 `)) {
			n++
		}
	}
	return n
}

// TestHTTPListSignedOSSOrigin: objects behind the OSS look-alike proxy,
// which refuses unsigned and expired GETs; a job with source keys signs
// every request and copies everything.
func TestHTTPListSignedOSSOrigin(t *testing.T) {
	t.Parallel()
	env := newS3Env(t)
	const bucket = "origin"
	env.srv.CreateBucket(t, bucket)
	var objs []object
	for i := range 300 {
		key := fmt.Sprintf("private/%02d/file %03d.bin", i%10, i)
		objs = append(objs, newObject(key, randomBytes(100+i*13, uint64(1000+i))))
	}
	putObjects(t, env.viaProxy(), bucket, objs)
	port := env.proxy.Endpoint[strings.LastIndex(env.proxy.Endpoint, ":")+1:]
	origin := "https://" + bucket + ".localhost:" + port
	var lines []string
	for _, o := range objs {
		lines = append(lines, origin+"/ "+escapeRel(o.Key))
	}
	list := filepath.Join(t.TempDir(), "urls.list")
	require.NoError(t, os.WriteFile(list, []byte(strings.Join(lines, "\n")+"\n"), 0o644))

	t.Run("the origin refuses unsigned and expired GETs", func(t *testing.T) {
		hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: env.srv.Cert.Pool},
			DialContext: testserver.LocalhostDialer}}
		u := origin + "/" + strings.ReplaceAll(objs[0].Key, " ", "%20")
		resp, err := hc.Get(u)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusForbidden, resp.StatusCode, "unsigned")

		exp := strconv.FormatInt(time.Now().Add(-time.Minute).Unix(), 10)
		m := hmac.New(sha1.New, []byte(env.srv.SecretKey))
		m.Write([]byte("GET\n\n\n" + exp + "\n/" + bucket + "/" + objs[0].Key))
		q := url.Values{"OSSAccessKeyId": {env.srv.AccessKey}, "Expires": {exp},
			"Signature": {base64.StdEncoding.EncodeToString(m.Sum(nil))}}
		resp, err = hc.Get(u + "?" + q.Encode())
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusForbidden, resp.StatusCode, "expired")
		assert.Equal(t, "0002-00000069", resp.Header.Get("X-Oss-Ec"), "refused as expired")
	})

	t.Run("unsigned job fails every object", func(t *testing.T) {
		dst := env.s3Side(t, "unsigned")
		data := dataDir(t)
		cfg := writeJob(t, t.TempDir(), "job.cfg", append(append(jobLines("http-unsigned"),
			httpSrcLines(list, "srcCABundle="+env.srv.Cert.CertFile)...), dst.lines("dest")...)...)
		r := runFerry(t, "run", "--data-dir", data, "--progress", "none", "--json", cfg)
		wantExit(t, r, 1)
		assert.Equal(t, int64(len(objs)), parseReport(t, r).Counters.Failed)
	})

	t.Run("signed job copies everything", func(t *testing.T) {
		dst := env.s3Side(t, "signed")
		data := dataDir(t)
		cfg := writeJob(t, t.TempDir(), "job.cfg", append(append(jobLines("http-signed"),
			httpSrcLines(list, "srcCABundle="+env.srv.Cert.CertFile,
				"srcAccessKey="+env.srv.AccessKey, "srcSecretKey="+env.srv.SecretKey)...), dst.lines("dest")...)...)
		r := runFerry(t, "run", "--data-dir", data, "--progress", "none", "--json", cfg)
		wantExit(t, r, 0)
		rep := parseReport(t, r)
		assert.Equal(t, int64(len(objs)), rep.Counters.Verified)
		assert.Equal(t, map[string]int64{"md5": int64(len(objs))}, methods(rep.Counters.Methods), "each copy checked against the destination's MD5")
		wantSame(t, dst, objs, false)
	})
}
