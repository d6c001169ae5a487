package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/ferry-migrate/ferry/admin"
	"github.com/ferry-migrate/ferry/master"
)

// maxSecretFile bounds what a secret file may hold: keys are short, and a
// wrong path (a log, a disk image) must not be read whole.
const maxSecretFile = 64 << 10

// cmdCredentials gives a running cluster job new static keys without
// resubmitting it. Secrets come from files or stdin ("-"), never from the
// command line, which every user of the machine can read in ps.
func cmdCredentials(ctx context.Context, e *env, args []string) int {
	fs, dataDir := flags(e, "credentials", "JOB")
	rf := addRemoteFlags(fs, e)
	type sideFlags struct {
		name                      string
		id, secretFile, tokenFile *string
	}
	var sides []sideFlags
	for _, p := range []string{"src", "dest"} {
		sides = append(sides, sideFlags{
			name:       p,
			id:         fs.String(p+"-access-key", "", "the "+p+" side's new access key id"),
			secretFile: fs.String(p+"-secret-key-file", "", "file holding the "+p+" side's new secret key ('-': stdin)"),
			tokenFile:  fs.String(p+"-security-token-file", "", "file holding the "+p+" side's STS security token, if any ('-': stdin)"),
		})
	}
	if err := parse(fs, args, 1, 1); err != nil {
		return flagExit(err)
	}
	if err := rf.needMaster("credentials", "; a `ferry run` job rotates keys through srcCredentials/destCredentials=file:PATH"); err != nil {
		return fail(e, err)
	}
	stdins := 0
	for _, s := range sides {
		for _, f := range []*string{s.secretFile, s.tokenFile} {
			if *f == "-" {
				stdins++
			}
		}
	}
	if stdins > 1 {
		return fail(e, errors.New("only one secret can come from stdin ('-'): stdin is already read for another secret"))
	}
	read := func(flagName, path string) (string, error) {
		var r io.Reader
		if path == "-" {
			r = os.Stdin
		} else {
			f, err := os.Open(path)
			if err != nil {
				return "", fmt.Errorf("--%s: %w", flagName, err)
			}
			defer f.Close()
			r = f
		}
		b, err := io.ReadAll(io.LimitReader(r, maxSecretFile+1))
		switch {
		case err != nil:
			return "", fmt.Errorf("--%s: %w", flagName, err)
		case len(b) > maxSecretFile:
			return "", fmt.Errorf("--%s: more than %d bytes: not a key file", flagName, maxSecretFile)
		}
		// Not echoed in any error: it is the secret.
		v := strings.TrimSpace(string(b))
		if v == "" {
			return "", fmt.Errorf("--%s: the file is empty", flagName)
		}
		return v, nil
	}
	type change struct {
		side string
		keys master.Keys
	}
	var changes []change
	for _, s := range sides {
		p := s.name
		if *s.id == "" {
			if *s.secretFile != "" || *s.tokenFile != "" {
				return fail(e, fmt.Errorf("--%s-access-key is needed with the %s secret", p, p))
			}
			continue
		}
		if *s.secretFile == "" {
			return fail(e, fmt.Errorf("--%s-secret-key-file is needed with --%s-access-key (secrets are not taken on the command line)", p, p))
		}
		k := master.Keys{AccessKey: *s.id}
		var err error
		if k.SecretKey, err = read(p+"-secret-key-file", *s.secretFile); err != nil {
			return fail(e, err)
		}
		if *s.tokenFile != "" {
			if k.SessionToken, err = read(p+"-security-token-file", *s.tokenFile); err != nil {
				return fail(e, err)
			}
		}
		changes = append(changes, change{p, k})
	}
	if len(changes) == 0 {
		return fail(e, errors.New("give --src-access-key and/or --dest-access-key with their secret key files"))
	}
	job := fs.Arg(0)
	err := withClient(e, rf, *dataDir, func(c admin.Client) error {
		for _, ch := range changes {
			if _, err := c.SetCredentials(ctx, job, ch.side, ch.keys); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "job %q: new %s keys given; workers switch at their next heartbeat\n", job, ch.side)
		}
		return nil
	})
	if err != nil {
		return fail(e, err)
	}
	return exitOK
}
