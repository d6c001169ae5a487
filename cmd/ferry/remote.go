package main

import (
	"flag"
	"fmt"

	"github.com/ferry-migrate/ferry/admin"
	"github.com/ferry-migrate/ferry/admin/remote"
	"github.com/ferry-migrate/ferry/internal/rpcauth"
)

// remoteFlags are the flags of a command that can talk to a master.
type remoteFlags struct {
	master, ca, cert, key, serverName, tokenFile *string
	insecure                                     *bool
}

func addRemoteFlags(fs *flag.FlagSet, e *env) remoteFlags {
	return remoteFlags{
		master:     fs.String("master", e.getenv("FERRY_MASTER"), "master address host:port (env FERRY_MASTER); without it, the local --data-dir is used"),
		ca:         fs.String("tls-ca", e.getenv("FERRY_TLS_CA"), "CA certificate that signed the master's (env FERRY_TLS_CA; empty: system roots)"),
		cert:       fs.String("tls-cert", "", "client certificate, when the master requires one"),
		key:        fs.String("tls-key", "", "client certificate key"),
		serverName: fs.String("server-name", "", "name to verify in the master's certificate (default: the host in --master)"),
		tokenFile:  fs.String("token-file", e.getenv("FERRY_TOKEN_FILE"), "file holding the cluster token (else $FERRY_TOKEN)"),
		insecure:   fs.Bool("insecure", false, "talk to the master without TLS (throwaway test clusters only)"),
	}
}

func (r remoteFlags) set() bool { return *r.master != "" }

// client is the admin client the flags name: the master's with --master,
// else the local data dir's. The caller closes it.
func (r remoteFlags) client(e *env, dataDir string) (admin.Client, error) {
	if !r.set() {
		return admin.NewLocal(dataDir), nil
	}
	tok, err := rpcauth.LoadToken(*r.tokenFile, e.getenv)
	if err != nil {
		return nil, err
	}
	return remote.Dial(*r.master, rpcauth.Config{CAFile: *r.ca, CertFile: *r.cert, KeyFile: *r.key,
		ServerName: *r.serverName, Token: tok, Insecure: *r.insecure}, 0)
}

// where names what the flags point at, for messages.
func (r remoteFlags) where(dataDir string) string {
	if r.set() {
		return "master " + *r.master
	}
	return dataDir
}

// masterArg is " --master ADDR" with --master, else "": for the commands
// a message suggests.
func (r remoteFlags) masterArg() string {
	if r.set() {
		return " --master " + *r.master
	}
	return ""
}

// needMaster refuses a command only a master does when --master is not
// set; why says what the command is for.
func (r remoteFlags) needMaster(name, why string) error {
	if r.set() {
		return nil
	}
	return fmt.Errorf("%s needs --master (or FERRY_MASTER)%s", name, why)
}
