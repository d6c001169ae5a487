package hdfs

import (
	"fmt"
	"os"
	"os/user"
	"runtime"
	"strings"
	"sync"

	"github.com/colinmarc/hdfs/v2"
	krb "github.com/jcmturner/gokrb5/v8/client"
	"github.com/jcmturner/gokrb5/v8/config"
	"github.com/jcmturner/gokrb5/v8/credentials"
	"github.com/jcmturner/gokrb5/v8/keytab"

	"github.com/ferry-migrate/ferry/storage"
)

// This file is the thin adapter over github.com/colinmarc/hdfs/v2 (the
// pure-Go HDFS client: no JVM, no Hadoop install): the only code in the
// package that needs a live cluster. It translates calls and nothing
// else; errors go back untouched for classify.

// Config is how to reach a cluster.
type Config struct {
	// Namenodes are host:port addresses; more than one for an HA pair
	// (the client fails over between them).
	Namenodes []string
	// User is the HDFS user to act as without Kerberos. Empty: the
	// HADOOP_USER_NAME environment variable, else the OS user, as
	// Hadoop's own client does.
	User string
	// Root is the directory keys are relative to (absolute).
	Root string

	Kerberos Kerberos
}

// Kerberos configures a kerberized cluster; zero means simple
// authentication. Principal with Keytab logs in from a keytab; CCache
// alone uses a credential cache (as after kinit).
type Kerberos struct {
	Principal        string // user@REALM, for a keytab
	Keytab           string // path
	CCache           string // path; default $KRB5CCNAME when neither is set
	Config           string // krb5.conf path; default /etc/krb5.conf
	ServicePrincipal string // the namenode's, e.g. "nn/_HOST"; default "nn/_HOST"
}

// Enabled reports whether any Kerberos setting is given.
func (k Kerberos) Enabled() bool {
	return k.Principal != "" || k.Keytab != "" || k.CCache != ""
}

// New returns a backend over c.Root. It does not contact the cluster
// (the client connects on first use); call Check for that.
func New(c Config, opts Options) (*Backend, error) {
	if len(c.Namenodes) == 0 {
		return nil, fmt.Errorf("%w: hdfs: no namenode address", storage.ErrConfig)
	}
	cl := &client{cfg: c}
	b, err := newBackend(cl, "hdfs://"+strings.Join(c.Namenodes, ","), c.Root, opts)
	if err != nil {
		return nil, err
	}
	// storage.Backend has no Close, and ferry opens backends to check a
	// job and drops them. A connected client keeps a namenode connection
	// and a lease-renewal goroutine, so it is closed once the backend is
	// unreachable. (cl does not point back to b, so b can be collected.)
	runtime.AddCleanup(b, func(cl *client) { _ = cl.close() }, cl)
	return b, nil
}

// client implements fs over *hdfs.Client, connecting on first use and
// again after a failed attempt (a namenode that was down may be back).
type client struct {
	cfg Config
	mu  sync.Mutex
	c   *hdfs.Client
}

func (cl *client) get() (*hdfs.Client, error) {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if cl.c != nil {
		return cl.c, nil
	}
	opts := hdfs.ClientOptions{Addresses: cl.cfg.Namenodes, User: cl.cfg.User}
	if cl.cfg.Kerberos.Enabled() {
		kc, err := kerberosClient(cl.cfg.Kerberos)
		if err != nil {
			return nil, err
		}
		opts.KerberosClient = kc
		opts.KerberosServicePrincipleName = cl.cfg.Kerberos.ServicePrincipal
		if opts.KerberosServicePrincipleName == "" {
			opts.KerberosServicePrincipleName = "nn/_HOST"
		}
	} else if opts.User == "" {
		opts.User = defaultUser()
	}
	c, err := hdfs.NewClient(opts)
	if err != nil {
		return nil, err
	}
	cl.c = c
	return c, nil
}

func defaultUser() string {
	if u := os.Getenv("HADOOP_USER_NAME"); u != "" {
		return u
	}
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return ""
}

// kerberosClient logs in from a keytab or loads a credential cache.
// Errors wrap storage.ErrAuth: nothing can succeed without a login.
func kerberosClient(k Kerberos) (*krb.Client, error) {
	cfgPath := k.Config
	if cfgPath == "" {
		cfgPath = "/etc/krb5.conf"
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return nil, fmt.Errorf("%w: kerberos config %s: %w", storage.ErrConfig, cfgPath, err)
	}
	if k.Keytab != "" {
		name, realm, ok := strings.Cut(k.Principal, "@")
		if !ok || name == "" || realm == "" {
			return nil, fmt.Errorf("%w: kerberos principal %q: want user@REALM", storage.ErrConfig, k.Principal)
		}
		kt, err := keytab.Load(k.Keytab)
		if err != nil {
			return nil, fmt.Errorf("%w: kerberos keytab %s: %w", storage.ErrConfig, k.Keytab, err)
		}
		c := krb.NewWithKeytab(name, realm, kt, cfg)
		if err := c.Login(); err != nil {
			return nil, fmt.Errorf("%w: kerberos login as %s: %w", storage.ErrAuth, k.Principal, err)
		}
		return c, nil
	}
	path := k.CCache
	if path == "" {
		path = strings.TrimPrefix(os.Getenv("KRB5CCNAME"), "FILE:")
	}
	cc, err := credentials.LoadCCache(path)
	if err != nil {
		return nil, fmt.Errorf("%w: kerberos credential cache %q (run kinit?): %w", storage.ErrAuth, path, err)
	}
	c, err := krb.NewFromCCache(cc, cfg)
	if err != nil {
		return nil, fmt.Errorf("%w: kerberos credential cache %s: %w", storage.ErrAuth, path, err)
	}
	return c, nil
}

func (cl *client) ReadDir(path string) ([]fileInfo, error) {
	c, err := cl.get()
	if err != nil {
		return nil, err
	}
	fis, err := c.ReadDir(path)
	if err != nil {
		return nil, err
	}
	out := make([]fileInfo, len(fis))
	for i, fi := range fis {
		out[i] = convert(fi)
	}
	return out, nil
}

func (cl *client) Stat(path string) (fileInfo, error) {
	c, err := cl.get()
	if err != nil {
		return fileInfo{}, err
	}
	fi, err := c.Stat(path)
	if err != nil {
		return fileInfo{}, err
	}
	return convert(fi), nil
}

func (cl *client) Open(path string) (file, error) {
	c, err := cl.get()
	if err != nil {
		return nil, err
	}
	f, err := c.Open(path)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// convert reads a file status. The client's FileMode has no symlink bit;
// the status it wraps names a link's target.
func convert(fi os.FileInfo) fileInfo {
	out := fileInfo{Name: fi.Name(), Size: fi.Size(), ModTime: fi.ModTime(), Dir: fi.IsDir()}
	if s, ok := fi.Sys().(interface{ GetSymlink() []byte }); ok && len(s.GetSymlink()) > 0 {
		out.Symlink = true
	}
	return out
}

// Close ends the connection to the namenode, if one was made. The
// backend connects again if used afterwards.
func (b *Backend) Close() error {
	cl, ok := b.fs.(*client)
	if !ok {
		return nil
	}
	return cl.close()
}

func (cl *client) close() error {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if cl.c == nil {
		return nil
	}
	err := cl.c.Close()
	cl.c = nil
	return err
}
