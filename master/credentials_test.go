package master

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReplaceKeys(t *testing.T) {
	for _, tc := range []struct {
		name, text, side string
		keys             Keys
		want             string
	}{
		{name: "replaces the side's keys and token",
			text: "jobName=j\nsrcAccessKey=OLD\n srcSecretKey = oldsecret\nsrcSecurityToken=oldtoken\ndestAccessKey=D\n",
			side: "src", keys: Keys{AccessKey: "NEW", SecretKey: "newsecret"},
			want: "jobName=j\ndestAccessKey=D\n# keys given with `ferry credentials`\nsrcAccessKey=NEW\nsrcSecretKey=newsecret\n"},
		{name: "adds a token",
			text: "jobName=j\ndestAccessKey=D\ndestSecretKey=s", side: "dest",
			keys: Keys{AccessKey: "STS.x", SecretKey: "s2", SessionToken: "tok"},
			want: "jobName=j\n# keys given with `ferry credentials`\ndestAccessKey=STS.x\ndestSecretKey=s2\ndestSecurityToken=tok\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, replaceKeys(tc.text, tc.side, tc.keys))
		})
	}
}

// Keys are only given to a side that signs with static keys; nothing
// changes (not the config, not the generation) when refused, and the
// errors never show a key.
func TestSetCredentialsRefusals(t *testing.T) {
	h := newHarness(t)
	job := h.submit(localJob(t, "loc", 3))
	ctx := context.Background()
	before, _, err := h.m.files.readConfig(job)
	require.NoError(t, err)
	for _, tc := range []struct {
		name, job, side string
		keys            Keys
		kind            error
		msg             string
	}{
		{"local side", job, "src", Keys{"AKIDNEW", "topsecret", ""}, ErrInvalid, "does not use static keys"},
		{"bad side", job, "both", Keys{"AKIDNEW", "topsecret", ""}, ErrInvalid, `side "both"`},
		{"half a pair", job, "dest", Keys{AccessKey: "AKIDNEW"}, ErrInvalid, "both the access key and the secret key"},
		{"unknown job", "nope", "src", Keys{"AKIDNEW", "topsecret", ""}, ErrUnknownJob, "nope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := h.m.SetCredentials(ctx, tc.job, tc.side, tc.keys)
			require.ErrorIs(t, err, tc.kind)
			assert.Contains(t, err.Error(), tc.msg)
			assert.NotContains(t, err.Error(), "topsecret")
		})
	}
	after, _, err := h.m.files.readConfig(job)
	require.NoError(t, err)
	assert.Equal(t, before, after)
	gen, err := h.m.KeysGeneration(job)
	require.NoError(t, err)
	assert.Zero(t, gen)
	h.register("w1")
	_, thr := h.heartbeat("w1")
	require.Len(t, thr, 1)
	assert.Zero(t, thr[0].KeysGeneration)
}

func TestKeysGenerationFile(t *testing.T) {
	f := newJobFiles(t.TempDir())
	n, err := f.keysGen("j")
	require.NoError(t, err)
	assert.Zero(t, n, "absent: generation 0")
	require.NoError(t, f.saveKeysGen("j", 7))
	n, err = f.keysGen("j")
	require.NoError(t, err)
	assert.Equal(t, uint64(7), n)
	require.NoError(t, f.remove("j"))
	n, err = f.keysGen("j")
	require.NoError(t, err)
	assert.Zero(t, n, "removed with the job's other files")
}
