package creds

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/storage"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Spec
		err  string
	}{
		{in: "static", want: Spec{Kind: KindStatic}},
		{in: "env", want: Spec{Kind: KindEnv}},
		{in: "rrsa", want: Spec{Kind: KindRRSA}},
		{in: "ecs-ram-role", want: Spec{Kind: KindECSRAMRole}},
		{in: "ecs-ram-role:ferry-role", want: Spec{Kind: KindECSRAMRole, Arg: "ferry-role"}},
		{in: "command:/usr/bin/helper --profile 'a b'", want: Spec{Kind: KindCommand, Arg: "/usr/bin/helper --profile 'a b'"}},
		{in: "file:/run/creds.json", want: Spec{Kind: KindFile, Arg: "/run/creds.json"}},
		{in: "assume-role:acs:ram::123:role/ferry", want: Spec{Kind: KindAssumeRole, Arg: "acs:ram::123:role/ferry"}},
		{in: "command:", err: "needs a command line"},
		{in: "command:helper 'unclosed", err: "unclosed ' quote"},
		{in: "file:", err: "needs a path"},
		{in: "assume-role:arn:aws:iam::1:role/x", err: "RAM role ARN"},
		{in: "static:x", err: "takes no argument"},
		{in: "vault", err: `"vault" is not a credentials kind`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			s, err := Parse(tc.in)
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, s)
			assert.Equal(t, tc.in, s.String())
		})
	}
}

func TestSplitCommand(t *testing.T) {
	argv, err := SplitCommand(`  /bin/helper  -a "two words" 'x"y' ''`)
	require.NoError(t, err)
	assert.Equal(t, []string{"/bin/helper", "-a", "two words", `x"y`, ""}, argv)
}

func TestParseDocument(t *testing.T) {
	exp := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		name string
		doc  string
		want aws.Credentials
		err  string
	}{
		{name: "alibaba", doc: `{"AccessKeyId":"STS.a","AccessKeySecret":"s","SecurityToken":"t","Expiration":"2030-01-02T03:04:05Z"}`,
			want: aws.Credentials{AccessKeyID: "STS.a", SecretAccessKey: "s", SessionToken: "t", CanExpire: true, Expires: exp, Source: "command"}},
		{name: "aws", doc: `{"Version":1,"AccessKeyId":"AKIA","SecretAccessKey":"s","SessionToken":"t","Expiration":"2030-01-02T03:04:05Z"}`,
			want: aws.Credentials{AccessKeyID: "AKIA", SecretAccessKey: "s", SessionToken: "t", CanExpire: true, Expires: exp, Source: "command"}},
		{name: "no expiry", doc: `{"AccessKeyId":"a","AccessKeySecret":"s"}`,
			want: aws.Credentials{AccessKeyID: "a", SecretAccessKey: "s", Source: "command"}},
		{name: "syntax", doc: `{"AccessKeyId":"a","AccessKeySecret":"supersecret"`, err: "syntax error"},
		{name: "type", doc: `["supersecret"]`, err: "expected an object"},
		{name: "no secret", doc: `{"AccessKeyId":"a","SecurityToken":"supersecret"}`, err: "AccessKeySecret (or SecretAccessKey) are required"},
		{name: "bad time", doc: `{"AccessKeyId":"a","AccessKeySecret":"supersecret","Expiration":"tomorrow"}`, err: "Expiration is not an RFC 3339 time"},
		{name: "version", doc: `{"Version":2,"AccessKeyId":"a","AccessKeySecret":"supersecret"}`, err: "Version 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := parseDocument([]byte(tc.doc), "command")
			if tc.err != "" {
				require.ErrorIs(t, err, errFormat)
				assert.Contains(t, err.Error(), tc.err)
				assert.NotContains(t, err.Error(), "supersecret")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, c)
		})
	}
}

func TestRefreshAhead(t *testing.T) {
	now := time.Now()
	for _, tc := range []struct {
		life, ahead time.Duration
	}{
		{5 * time.Second, 1250 * time.Millisecond},
		{time.Hour, 5 * time.Minute},
		{-time.Second, 0},
	} {
		c := refreshAhead(aws.Credentials{CanExpire: true, Expires: now.Add(tc.life)}, now)
		assert.Equal(t, now.Add(tc.life-tc.ahead), c.Expires, tc.life)
	}
}

// logBuffer is a logger whose output the test reads.
func logBuffer() (*slog.Logger, *bytes.Buffer) {
	var b bytes.Buffer
	return slog.New(slog.NewTextHandler(&b, nil)), &b
}

// script writes an executable shell script and returns its path.
func script(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "helper.sh")
	require.NoError(t, os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o700))
	return p
}

// A command's credentials are cached until shortly before they expire,
// then the command runs again.
func TestCommandRerunsBeforeExpiry(t *testing.T) {
	dir := t.TempDir()
	counter := filepath.Join(dir, "runs")
	// Each run prints a new key id valid for 2 s, and an echo of its
	// secret on stderr, which must not reach the log.
	helper := script(t, fmt.Sprintf(`n=$(cat %[1]s 2>/dev/null || echo 0); n=$((n+1)); echo $n > %[1]s
exp=$(date -u -d @$(( $(date +%%s) + 2 )) +%%Y-%%m-%%dT%%H:%%M:%%SZ)
echo "issuing secret-$n" >&2
printf '{"AccessKeyId":"KEY%%d","AccessKeySecret":"secret-%%d","SecurityToken":"token-%%d","Expiration":"%%s"}' $n $n $n $exp
`, counter))
	log, buf := logBuffer()
	p, err := New(t.Context(), Spec{Kind: KindCommand, Arg: helper}, Options{Log: log})
	require.NoError(t, err)
	c, err := p.Retrieve(t.Context())
	require.NoError(t, err)
	assert.Equal(t, "KEY1", c.AccessKeyID)
	assert.True(t, c.CanExpire)
	again, err := p.Retrieve(t.Context())
	require.NoError(t, err)
	assert.Equal(t, "KEY1", again.AccessKeyID, "cached, not re-run")
	require.Eventually(t, func() bool {
		c, err := p.Retrieve(t.Context())
		return err == nil && c.AccessKeyID == "KEY2"
	}, 5*time.Second, 50*time.Millisecond, "re-run before expiry")
	assert.NotContains(t, buf.String(), "secret-1")
	assert.NotContains(t, buf.String(), "token-1")
	assert.Contains(t, buf.String(), "issuing <redacted>")
	assert.Contains(t, buf.String(), "key_id=****", "the key id is logged masked")
}

func TestCommandErrors(t *testing.T) {
	for _, tc := range []struct {
		name, body, err string
	}{
		{"bad json", `echo '{"AccessKeyId":"a","AccessKeySecret":"supersecret"'`, "printed not credentials JSON: syntax error"},
		{"exit status", "echo supersecret >&2; exit 3", "exited with status 3"},
		{"expired", `echo '{"AccessKeyId":"a","AccessKeySecret":"supersecret","Expiration":"2001-01-01T00:00:00Z"}'`, "expired at 2001-01-01T00:00:00Z"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			helper := script(t, tc.body)
			log, buf := logBuffer()
			c, err := newCommand(helper+" --flag", log)
			require.NoError(t, err)
			_, err = c.Retrieve(t.Context())
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.err)
			assert.Contains(t, err.Error(), fmt.Sprintf("credentials command %q", helper), "names the command")
			assert.NotContains(t, err.Error(), "supersecret")
			assert.NotContains(t, err.Error(), "--flag", "arguments may be private")
			assert.True(t, storage.IsRetryable(err), "a failed refresh is retried")
			if tc.name == "exit status" {
				assert.Contains(t, buf.String(), "supersecret", "a failing command's stderr is logged for the operator")
			}
		})
	}
	_, err := newCommand(helperMissing(t), slog.Default())
	require.NoError(t, err)
}

func helperMissing(t *testing.T) string { return filepath.Join(t.TempDir(), "missing") }

func TestCommandMissingProgram(t *testing.T) {
	path := helperMissing(t)
	c, err := newCommand(path, slog.Default())
	require.NoError(t, err)
	_, err = c.Retrieve(t.Context())
	require.Error(t, err)
	assert.Contains(t, err.Error(), path)
	assert.True(t, storage.IsRetryable(err))
}

func writeDoc(t *testing.T, path, id, secret string, exp time.Time, mtime time.Time) {
	t.Helper()
	doc := fmt.Sprintf(`{"AccessKeyId":%q,"AccessKeySecret":%q,"SecurityToken":"tok","Expiration":%q}`, id, secret, exp.UTC().Format(time.RFC3339))
	require.NoError(t, os.WriteFile(path, []byte(doc), 0o600))
	require.NoError(t, os.Chtimes(path, mtime, mtime))
}

func TestFileRereadWhenChanged(t *testing.T) {
	path := filepath.Join(t.TempDir(), "creds.json")
	now := time.Now()
	writeDoc(t, path, "KEY1", "s1", now.Add(time.Hour), now.Add(-time.Minute))
	f := newFile(path, slog.Default())
	c, err := f.Retrieve(t.Context())
	require.NoError(t, err)
	assert.Equal(t, "KEY1", c.AccessKeyID)
	assert.Equal(t, now.Add(fileCheckEvery).Round(time.Second), c.Expires.Round(time.Second),
		"checked again soon, though the credentials last an hour")

	// Same size, new mtime: re-read.
	writeDoc(t, path, "KEY2", "s2", now.Add(time.Hour), now)
	c, err = f.Retrieve(t.Context())
	require.NoError(t, err)
	assert.Equal(t, "KEY2", c.AccessKeyID)

	// Unchanged: not read again (a now unreadable file would fail).
	require.NoError(t, os.Chmod(path, 0o000))
	c, err = f.Retrieve(t.Context())
	require.NoError(t, err)
	assert.Equal(t, "KEY2", c.AccessKeyID)
	require.NoError(t, os.Chmod(path, 0o600))

	// Expired and not rewritten: a clear, retryable error.
	writeDoc(t, path, "KEY3", "s3", now.Add(-time.Second), now.Add(time.Minute))
	_, err = f.Retrieve(t.Context())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "expired")
	assert.True(t, storage.IsRetryable(err))

	// Short-lived credentials are renewed ahead of their expiry.
	writeDoc(t, path, "KEY4", "s4", now.Add(4*time.Second), now.Add(2*time.Minute))
	c, err = f.Retrieve(t.Context())
	require.NoError(t, err)
	assert.True(t, c.Expires.Before(now.Add(4*time.Second)))
}

func TestFileErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	require.NoError(t, os.WriteFile(bad, []byte(`{"AccessKeyId":"a","AccessKeySecret":"supersecret",`), 0o600))
	for _, path := range []string{bad, filepath.Join(dir, "missing.json")} {
		_, err := newFile(path, slog.Default()).Retrieve(t.Context())
		require.Error(t, err)
		assert.Contains(t, err.Error(), "credentials file "+path)
		assert.NotContains(t, err.Error(), "supersecret")
		assert.True(t, storage.IsRetryable(err))
	}
}

func TestStaticSet(t *testing.T) {
	s := NewStatic("OLD", "oldsecret", "")
	p, err := New(t.Context(), Spec{}, Options{Keys: s})
	require.NoError(t, err)
	c, err := p.Retrieve(t.Context())
	require.NoError(t, err)
	assert.Equal(t, "OLD", c.AccessKeyID)
	s.Set("NEW", "newsecret", "tok")
	c, err = p.Retrieve(t.Context())
	require.NoError(t, err)
	assert.Equal(t, aws.Credentials{AccessKeyID: "NEW", SecretAccessKey: "newsecret", SessionToken: "tok", Source: "static"}, c)
}

func TestNewKeysAndKinds(t *testing.T) {
	ctx := context.Background()
	_, err := New(ctx, Spec{Kind: KindCommand, Arg: "x"}, Options{AccessKey: "a", SecretKey: "b"})
	assert.ErrorContains(t, err, "takes no access key")
	_, err = New(ctx, Spec{Kind: KindStatic}, Options{})
	assert.ErrorContains(t, err, "needs the access key")
	p, err := New(ctx, Spec{}, Options{})
	require.NoError(t, err)
	assert.Nil(t, p, "no keys, no kind: the environment")
	p, err = New(ctx, Spec{}, Options{AccessKey: "a", SecretKey: "b"})
	require.NoError(t, err)
	_, isCache := p.(*aws.CredentialsCache)
	assert.True(t, isCache)
}

func TestSpecStringKeepsArg(t *testing.T) {
	assert.True(t, strings.HasPrefix(Spec{Kind: KindFile, Arg: "/x"}.String(), "file:"))
}
