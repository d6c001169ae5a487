package task

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCopySettingsWithDefaults(t *testing.T) {
	defaults := CopySettings{Overwrite: OverwriteIfSourceNewer, MultipartThreshold: 100 << 20, PartSize: 50 << 20, PartsInFlight: 4, Verify: VerifyAuto, Retries: 3}
	set := CopySettings{Overwrite: OverwriteNever, MultipartThreshold: 1, PartSize: 2, PartsInFlight: 3, Verify: VerifyOff, Retries: 5}
	for _, tc := range []struct {
		name string
		in   CopySettings
		want CopySettings
	}{
		{"zero is the defaults", CopySettings{}, defaults},
		{"negative is the default", CopySettings{MultipartThreshold: -1, PartSize: -1, PartsInFlight: -1, Retries: -1}, defaults},
		{"set values stay", set, set},
		{"unknown verify mode is left for the consumer", CopySettings{Verify: "md5"}, func() CopySettings { d := defaults; d.Verify = "md5"; return d }()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, tc.in.WithDefaults())
		})
	}
}

func TestVerifyModeCheck(t *testing.T) {
	for _, tc := range []struct {
		mode VerifyMode
		err  string
	}{
		{VerifyAuto, ""}, {VerifyReread, ""}, {VerifySize, ""}, {VerifyOff, ""},
		{"", `"": use auto, reread, size or off`},
		{"md5", `"md5": use auto, reread, size or off`},
		{"AUTO", `"AUTO": use auto, reread, size or off`},
	} {
		err := tc.mode.Check()
		if tc.err == "" {
			assert.NoError(t, err, "%q", tc.mode)
		} else {
			assert.EqualError(t, err, tc.err)
		}
	}
}

func TestOverwritePolicyCheck(t *testing.T) {
	for _, p := range []OverwritePolicy{OverwriteNever, OverwriteIfSourceNewer, OverwriteIfDifferent, OverwriteAlways} {
		assert.NoError(t, p.Check(), "%q", p)
	}
	assert.EqualError(t, OverwritePolicy("newer").Check(), `"newer": use never, if-source-newer, if-different or always`)
	assert.False(t, OverwriteAlways.Conditional(), "always replaces anything: no condition to enforce")
	assert.True(t, OverwriteNever.Conditional())
}
