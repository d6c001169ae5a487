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
	{"httpPrefixColumn", "1", fmt.Sprintf(onlyFor, "http")},
	{"relativePathColumn", "2", fmt.Sprintf(onlyFor, "http")},
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

	// Every stock OssImport file carries httpListFilePath with a
	// placeholder, whatever its srcType; OssImport ignores it then, and so
	// does ferry. A real path means the operator expects an HTTP-list
	// migration, which ferry cannot do yet.
	if v, ok := r.value("httpListFilePath"); ok && v != httpListStub {
		if t, _ := r.value("srcType"); t != "http" { // srcType=http is reported on its own line
			r.fail("httpListFilePath", ErrUnsupported, "applies to srcType=http only, which is not supported yet: remove it or leave it empty")
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
