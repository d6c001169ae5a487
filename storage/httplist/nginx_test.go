package httplist_test

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/internal/testkit/testserver"
	"github.com/ferry-migrate/ferry/storage/httplist"
)

// origin is an nginx serving files, with a URL list naming them.
type origin struct {
	n    *testserver.Nginx
	list string
	mu   sync.Mutex
}

// nginxConf: /protected/ is hotlink-protected with an empty Referer
// refused; /signed/ needs an nginx secure link (md5 of expiry, URI and a
// secret); /moved/ redirects; /nohead/ refuses HEAD; /broken/ answers 502.
const nginxConf = `
	location /protected/ {
		valid_referers server_names www.example.com;
		if ($invalid_referer) { return 403; }
	}
	location /signed/ {
		secure_link $arg_md5,$arg_expires;
		secure_link_md5 "$secure_link_expires$uri ferry-link-secret";
		if ($secure_link = "") { return 403; }
		if ($secure_link = "0") { return 410; }
	}
	location /moved/ { return 302 http://elsewhere.example/target?sig=SECRETSIG; }
	location /nohead/ {
		if ($request_method = HEAD) { return 405; }
	}
	location /broken/ { return 502; }
`

func newOrigin(t *testing.T) *origin {
	t.Helper()
	n := testserver.StartNginx(t, testserver.NginxOptions{Server: nginxConf})
	return &origin{n: n, list: filepath.Join(t.TempDir(), "urls.list")}
}

// put serves data at dir/key and lists it.
func (o *origin) put(t *testing.T, dir, key string, data []byte) {
	t.Helper()
	o.n.Write(t, dir+key, data)
	o.line(t, o.n.URL+"/"+dir+" "+escape(key))
}

func (o *origin) line(t *testing.T, l string) {
	t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	f, err := os.OpenFile(o.list, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	require.NoError(t, err)
	_, err = f.WriteString(l + "\n")
	require.NoError(t, err)
	require.NoError(t, f.Close())
}

func (o *origin) backend(t *testing.T, opt httplist.Options) *httplist.Backend {
	t.Helper()
	opt.ListFile, opt.PrefixColumn, opt.RelativeColumn = o.list, 1, 2
	opt.SpoolDir = t.TempDir()
	b, err := httplist.New(opt)
	require.NoError(t, err)
	return b
}

// escape writes a key as a list's relative path: percent-encoded where
// a URL path needs it (space, '%', '?', '#', non-ASCII).
func escape(key string) string {
	var b strings.Builder
	for i := 0; i < len(key); i++ {
		c := key[i]
		if c > ' ' && c < 0x7f && !strings.ContainsRune("%?#\"", rune(c)) {
			b.WriteByte(c)
			continue
		}
		b.WriteString("%" + strings.ToUpper(string("0123456789abcdef"[c>>4])+string("0123456789abcdef"[c&15])))
	}
	return b.String()
}
