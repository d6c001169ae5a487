package conf

import (
	"net"
	"path"
	"strconv"
	"strings"

	"github.com/ferry-migrate/ferry/storage/backends"
	"github.com/ferry-migrate/ferry/storage/hdfs"
)

// hdfsKeys are the keys of srcType=hdfs (ferry's; OssImport has no HDFS
// source). Kept in their own list so that other sources' keys merge
// without touching these lines.
var hdfsKeys = []string{
	"hdfsNamenode", "hdfsUser",
	"hdfsKerberosPrincipal", "hdfsKerberosKeytab", "hdfsKerberosCCache",
	"hdfsKerberosConfig", "hdfsKerberosServicePrincipal",
}

// hdfsSource reads srcType=hdfs: the namenode(s), the user, the directory
// (srcPrefix) and Kerberos. Keys of object-store sources are noted as
// ignored, as for a local source.
func (r *reader) hdfsSource() backends.Spec {
	s := backends.Spec{Type: backends.HDFS}
	s.HDFSNamenodes = r.namenodes("hdfsNamenode")
	s.HDFSUser, _ = r.value("hdfsUser")
	s.Root = r.hdfsDir("srcPrefix")
	s.HDFSKerberos = r.kerberos()
	for _, k := range []string{"Domain", "Bucket", "Region", "AccessKey", "SecretKey", "SecurityToken", "PathStyle", "CABundle", "Checksums", "ListPageSize"} {
		if v, ok := r.value("src" + k); ok && v != "false" {
			r.note("src"+k, "src%s is ignored: srcType is hdfs", k)
		}
	}
	if t, _ := r.value("jobType"); t == string(JobRestore) {
		r.fail("srcType", ErrInvalid, "jobType=restore reads a snapshot ferry wrote, and ferry never writes HDFS: use the snapshot's srcType (oss, s3 or local)")
	}
	return s
}

// noteHDFSKeys tells a config that is not srcType=hdfs that its hdfs*
// keys do nothing (a note, never a refusal: configs get copied from
// earlier jobs).
func (r *reader) noteHDFSKeys() {
	for _, k := range hdfsKeys {
		if _, ok := r.value(k); ok {
			r.note(k, "%s is ignored: it applies to srcType=hdfs only", k)
		}
	}
}

// namenodes reads host:port[,host:port...].
func (r *reader) namenodes(key string) []string {
	v, ok := r.value(key)
	if !ok {
		r.fail(key, ErrRequired, "required for srcType=hdfs: the namenode's RPC address host:port, e.g. namenode.example.com:8020 (comma-separated for an HA pair)")
		return nil
	}
	var out []string
	for _, a := range strings.Split(v, ",") {
		a = strings.TrimSpace(a)
		if rest, ok := strings.CutPrefix(a, "hdfs://"); ok {
			r.fail(key, ErrInvalid, "%q: give host:port without hdfs://, e.g. %s", a, strings.TrimSuffix(rest, "/"))
			return nil
		}
		host, port, err := net.SplitHostPort(a)
		n, perr := strconv.Atoi(port)
		if err != nil || host == "" || perr != nil || n < 1 || n > 65535 {
			r.fail(key, ErrInvalid, "%q is not host:port: give the namenode's RPC address, e.g. namenode.example.com:8020", a)
			return nil
		}
		out = append(out, a)
	}
	return out
}

// hdfsDir reads the HDFS directory to copy. It must be absolute: HDFS
// resolves relative paths against the user's home directory, which
// would make the same config copy different trees for different users.
func (r *reader) hdfsDir(key string) string {
	v, ok := r.value(key)
	switch {
	case !ok:
		r.fail(key, ErrRequired, "required for srcType=hdfs: the HDFS directory to copy, an absolute path such as /user/etl/export/")
	case strings.Contains(v, "://"):
		r.fail(key, ErrInvalid, "%q is a URL: give the directory's path alone (the namenode goes in hdfsNamenode)", v)
	case !strings.HasPrefix(v, "/"):
		r.fail(key, ErrInvalid, "%q is relative: for srcType=hdfs give an absolute HDFS path, e.g. %q", v, "/"+v)
	default:
		return path.Clean(v)
	}
	return ""
}

// kerberos reads the Kerberos keys. Kerberos is on when a keytab or a
// credential cache is given; the other keys only qualify those.
func (r *reader) kerberos() hdfs.Kerberos {
	var k hdfs.Kerberos
	k.Principal, _ = r.value("hdfsKerberosPrincipal")
	keytab, hasKeytab := r.value("hdfsKerberosKeytab")
	ccache, hasCCache := r.value("hdfsKerberosCCache")
	cfg, hasCfg := r.value("hdfsKerberosConfig")
	k.ServicePrincipal, _ = r.value("hdfsKerberosServicePrincipal")
	if hasKeytab {
		k.Keytab = r.resolve(keytab)
	}
	if hasCCache {
		k.CCache = r.resolve(ccache)
	}
	if hasCfg {
		k.Config = r.resolve(cfg)
	}
	name, realm, hasRealm := strings.Cut(k.Principal, "@")
	switch {
	case hasKeytab && hasCCache:
		r.fail("hdfsKerberosCCache", ErrInvalid, "set together with hdfsKerberosKeytab: log in with one of them (keytab with hdfsKerberosPrincipal, or a credential cache from kinit)")
	case hasKeytab && k.Principal == "":
		r.fail("hdfsKerberosKeytab", ErrInvalid, "set, but hdfsKerberosPrincipal is empty: name the keytab's principal as user@REALM")
	case hasKeytab && (!hasRealm || name == "" || realm == ""):
		r.fail("hdfsKerberosPrincipal", ErrInvalid, "%q: give user@REALM (e.g. etl@EXAMPLE.COM)", k.Principal)
	case !hasKeytab && k.Principal != "":
		r.fail("hdfsKerberosPrincipal", ErrInvalid, "applies with hdfsKerberosKeytab only: set the keytab, or remove it (a credential cache names its own principal)")
	case !hasKeytab && !hasCCache && (hasCfg || k.ServicePrincipal != ""):
		key := "hdfsKerberosConfig"
		if !hasCfg {
			key = "hdfsKerberosServicePrincipal"
		}
		r.fail(key, ErrInvalid, "set, but Kerberos is off: set hdfsKerberosKeytab (with hdfsKerberosPrincipal) or hdfsKerberosCCache, or remove it")
	}
	if sp := k.ServicePrincipal; sp != "" && (!strings.Contains(sp, "/") || strings.HasPrefix(sp, "/")) {
		r.fail("hdfsKerberosServicePrincipal", ErrInvalid, "%q: give the namenode's service principal as service/host, e.g. nn/_HOST (dfs.namenode.kerberos.principal)", sp)
	}
	if k.Enabled() {
		if _, set := r.value("hdfsUser"); set {
			r.note("hdfsUser", "hdfsUser is ignored with Kerberos: HDFS acts as the Kerberos principal")
		}
	}
	return k
}

// encodeHDFS writes an hdfs source as hdfsSource reads it.
func encodeHDFS(kv func(k, v string), s backends.Spec) {
	kv("srcPrefix", s.Root)
	kv("hdfsNamenode", strings.Join(s.HDFSNamenodes, ","))
	kv("hdfsUser", s.HDFSUser)
	k := s.HDFSKerberos
	kv("hdfsKerberosPrincipal", k.Principal)
	kv("hdfsKerberosKeytab", k.Keytab)
	kv("hdfsKerberosCCache", k.CCache)
	kv("hdfsKerberosConfig", k.Config)
	kv("hdfsKerberosServicePrincipal", k.ServicePrincipal)
}
