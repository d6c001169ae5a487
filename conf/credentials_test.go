package conf

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/storage/creds"
)

func TestCredentialsKey(t *testing.T) {
	for _, tc := range []struct {
		name  string
		lines []string
		src   creds.Spec
		err   string // on srcCredentials
	}{
		{name: "unset", src: creds.Spec{}},
		{name: "command", lines: []string{"srcCredentials=command:/opt/sts-helper --role 'migration role'"},
			src: creds.Spec{Kind: creds.KindCommand, Arg: "/opt/sts-helper --role 'migration role'"}},
		{name: "relative file", lines: []string{"srcCredentials=file:run/creds.json"},
			src: creds.Spec{Kind: creds.KindFile, Arg: "/cfg/run/creds.json"}},
		{name: "ecs", lines: []string{"srcCredentials=ecs-ram-role:ferry"}, src: creds.Spec{Kind: creds.KindECSRAMRole, Arg: "ferry"}},
		{name: "static with keys", lines: []string{"srcCredentials=static", "srcAccessKey=AKIAEXAMPLE1", "srcSecretKey=sk"},
			src: creds.Spec{Kind: creds.KindStatic}},
		{name: "assume-role", lines: []string{"srcCredentials=assume-role:acs:ram::1:role/r", "srcAccessKey=LTAIEXAMPLE1", "srcSecretKey=sk"},
			src: creds.Spec{Kind: creds.KindAssumeRole, Arg: "acs:ram::1:role/r"}},
		{name: "static without keys", lines: []string{"srcCredentials=static"}, err: "static needs srcAccessKey and srcSecretKey"},
		{name: "command with keys", lines: []string{"srcCredentials=command:/x", "srcAccessKey=AKIAEXAMPLE1", "srcSecretKey=topsecret"},
			err: "command takes no keys"},
		{name: "unknown", lines: []string{"srcCredentials=vault:secret/path"}, err: `"vault" is not a credentials kind`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text := with(tc.lines...)
			j, err := Parse(strings.NewReader(text), "/cfg/job.cfg")
			if tc.err != "" {
				onlyProblem(t, err, "srcCredentials", ErrInvalid, tc.err)
				assert.NotContains(t, err.Error(), "topsecret")
				assert.NotContains(t, err.Error(), "secret/path", "the value is not echoed")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.src, j.Src.Credentials)
			// The encoding round-trips and says where credentials come from.
			back := mustParse(t, j.encode(false))
			assert.Equal(t, j.Src.Credentials, back.Src.Credentials)
		})
	}
}

func TestCredentialsRedacted(t *testing.T) {
	j := mustParse(t, with("srcCredentials=command:/opt/helper", "destCredentials=file:/run/dest.json"))
	out := j.Redacted()
	assert.Contains(t, out, "srcCredentials=command:/opt/helper\n")
	assert.Contains(t, out, "destCredentials=file:/run/dest.json\n")
	assert.NotContains(t, out, "from the environment", "a provider is not the environment")
	assert.False(t, j.HasCredentials(), "a provider's config carries no secret")
}
