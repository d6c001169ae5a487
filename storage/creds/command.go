package creds

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os/exec"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/ferry-migrate/ferry/storage"
)

// commandTimeout bounds one run of a credentials command: a hung helper
// must not hang every request of the side.
const commandTimeout = time.Minute

// maxLogged bounds the stderr a run logs.
const maxLogged = 2 << 10

// command runs an external program for credentials (Alibaba CLI's
// external mode, AWS credential_process). The cache around it calls
// Retrieve only when the last answer is about to expire, so the program
// runs once per token lifetime, not per request.
type command struct {
	argv []string
	log  *slog.Logger
	now  func() time.Time
}

func newCommand(line string, log *slog.Logger) (*command, error) {
	argv, err := SplitCommand(line)
	if err != nil {
		return nil, err
	}
	return &command{argv: argv, log: log, now: time.Now}, nil
}

// name is how errors and logs name the command: the program only, since
// its arguments may carry something private (a profile, a role).
func (c *command) name() string { return fmt.Sprintf("credentials command %q", c.argv[0]) }

// Retrieve runs the command. A failure wraps storage.ErrUnavailable: the
// request that needed credentials is retried, and the command with it.
// Errors name the command, never its output (it holds the secrets).
func (c *command) Retrieve(ctx context.Context) (aws.Credentials, error) {
	ctx, cancel := context.WithTimeout(ctx, commandTimeout)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, c.argv[0], c.argv[1:]...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		c.logStderr(slog.LevelWarn, stderr.Bytes(), aws.Credentials{})
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return aws.Credentials{}, fmt.Errorf("%s exited with status %d (its stderr is in the log): %w", c.name(), ee.ExitCode(), storage.ErrUnavailable)
		}
		return aws.Credentials{}, fmt.Errorf("%s: %w: %w", c.name(), err, storage.ErrUnavailable)
	}
	creds, err := parseDocument(stdout.Bytes(), string(KindCommand))
	level := slog.LevelInfo
	if err != nil {
		level = slog.LevelWarn
	}
	c.logStderr(level, stderr.Bytes(), creds)
	if err != nil {
		return aws.Credentials{}, fmt.Errorf("%s printed %w: %w", c.name(), err, storage.ErrUnavailable)
	}
	if creds.CanExpire && !creds.Expires.After(c.now()) {
		return aws.Credentials{}, fmt.Errorf("%s printed credentials that expired at %s: %w", c.name(), creds.Expires.UTC().Format(time.RFC3339), storage.ErrUnavailable)
	}
	c.log.Info("credentials refreshed", "provider", c.name(), "key_id", maskID(creds.AccessKeyID), "expires", creds.Expires)
	return refreshAhead(creds, c.now()), nil
}

// logStderr logs what the command said on stderr, with any value of the
// credentials it printed cut out: a helper that echoes its token must not
// put it in ferry's log.
func (c *command) logStderr(level slog.Level, b []byte, creds aws.Credentials) {
	s := strings.TrimSpace(string(b))
	if s == "" {
		return
	}
	if len(s) > maxLogged {
		s = s[:maxLogged] + "…"
	}
	for _, secret := range []string{creds.SecretAccessKey, creds.SessionToken} {
		if secret != "" {
			s = strings.ReplaceAll(s, secret, "<redacted>")
		}
	}
	c.log.Log(context.Background(), level, "credentials command stderr", "provider", c.name(), "stderr", s)
}

// maskID keeps the first four characters of an access key id, so an
// operator can tell which key is in use.
func maskID(id string) string {
	if len(id) <= 4 {
		return "****"
	}
	return id[:4] + "****"
}
