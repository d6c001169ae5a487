package conf

import (
	"fmt"
	"strings"

	"github.com/ferry-migrate/ferry/storage/backends"
)

const (
	onlyFor      = "it applies to srcType=%s only, which ferry does not support yet"
	expressWhy   = "it is used only with isUseExpressTunnel=true, which ferry does not support"
	httpListStub = "c:/example/http.list" // the placeholder in every stock OssImport file
)

// ignored lists OssImport keys ferry accepts but does not act on, each with
// the value OssImport's stock files carry and the reason. The stock value
// passes silently (every OssImport file has these lines); any other value
// earns a line in Job.Notes, so an operator who relied on it is told.
var ignored = []struct{ key, stock, why string }{
	{"maxMultiThreadScanDepth", "1", "ferry lists object stores as flat key ranges and local trees depth-first; scanThreadCount is its only scan parallelism knob"},
	{"lastModify", "0", "ferry's audit compares every object; narrow it with importSince, include or exclude instead"},
	{"isAuditAfterImport", "true", "ferry verifies every copy while streaming it (see verify); that cannot be turned off"},
	{"getObjectMetaMode", "stat", fmt.Sprintf(onlyFor, "qiniu")},
	{"appId", "0", fmt.Sprintf(onlyFor, "cos")},
	{"isDownloadFromCdn", "false", fmt.Sprintf(onlyFor, "youpai")},
	{"cdnDomain", "", fmt.Sprintf(onlyFor, "youpai")},
	{"expressTunnelProxyHost", "", expressWhy},
	{"expressTunnelProxyType", "", expressWhy},
	{"expressTunnelProxyUser", "", expressWhy},
	{"expressTunnelProxyDest", "", expressWhy},
	{"expressTunnelAuthToken", "", expressWhy},
}

// compat handles the OssImport keys that do not map onto a Job field:
// ignored ones get notes, ones whose meaning ferry cannot honour are
// errors (ignoring them would do something the operator did not ask for).
func (r *reader) compat(j *Job) {
	for _, ig := range ignored {
		v, ok := r.value(ig.key)
		if !ok || r.sameAsStock(ig.key, v, ig.stock) {
			continue
		}
		// Express-tunnel settings are credentials and addresses of a
		// private link: named, not echoed.
		if secretKeys[ig.key] || strings.HasPrefix(ig.key, "expressTunnel") {
			r.note(ig.key, "%s is ignored: %s", ig.key, ig.why)
		} else {
			r.note(ig.key, "%s=%s is ignored: %s", ig.key, v, ig.why)
		}
	}

	// The keys of an HTTP URL list in a job of another source type: every
	// stock OssImport file carries them (httpListFilePath with a
	// placeholder, the columns 1 and 2), and a config copied from an
	// earlier HTTP job keeps them. Noted, never refused: the source type
	// says what is copied.
	if j.Src.Type != backends.HTTP {
		stock := map[string]string{"httpListFilePath": httpListStub, "httpPrefixColumn": defaults["httpPrefixColumn"],
			"relativePathColumn": defaults["relativePathColumn"]}
		for _, k := range httpKeys {
			v, ok := r.value(k)
			if !ok || v == stock[k] {
				continue
			}
			if secretKeys[k] {
				r.note(k, "%s is ignored: it applies to srcType=http only", k)
			} else {
				r.note(k, "%s=%s is ignored: it applies to srcType=http only", k, v)
			}
		}
	}

	// Storing objects unencrypted when encryption was asked for, or
	// sending traffic over the internet instead of an express tunnel,
	// would be quietly doing something else: refuse.
	if r.boolean("isServerSideEncryption") {
		r.fail("isServerSideEncryption", ErrUnsupported, "true is not supported yet: ferry does not request server-side encryption; turn on the destination bucket's default encryption and set this to false")
	}
	if r.boolean("isUseExpressTunnel") {
		r.fail("isUseExpressTunnel", ErrUnsupported, "true is not supported: ferry has no express-tunnel (高速通道) transport; set it to false to copy over the normal network")
	}

	// Symlink handling is read for local sources only (side); elsewhere
	// say it does nothing.
	if j.Src.Type != backends.Local {
		for _, k := range []string{"followSymlinks", "isAllowSymbolicLink"} {
			if _, set := r.value(k); set && r.boolean(k) {
				r.note(k, "%s is ignored: it applies to srcType=local only", k)
			}
		}
	}
}

// sameAsStock compares with the stock value, booleans by meaning so that
// "TRUE" or "yes" does not earn a note. A malformed boolean is an error:
// OssImport would refuse it too.
func (r *reader) sameAsStock(key, v, stock string) bool {
	if stock == "true" || stock == "false" {
		b, err := parseBool(v)
		if err != nil {
			r.fail(key, ErrInvalid, "%w", err)
			return true
		}
		return b == (stock == "true")
	}
	return v == stock
}
