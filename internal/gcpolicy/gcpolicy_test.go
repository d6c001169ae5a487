package gcpolicy

import (
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestApply(t *testing.T) {
	for _, tc := range []struct {
		name, gogc string
		want       int
	}{
		{"unset: ferry's percent", "", Percent},
		{"set: the environment decides", "50", 100},
		{"off: the environment decides", "off", 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prev := debug.SetGCPercent(100)
			t.Cleanup(func() { debug.SetGCPercent(prev) })
			Apply(func(k string) string {
				if k == "GOGC" {
					return tc.gogc
				}
				return ""
			})
			assert.Equal(t, tc.want, debug.SetGCPercent(100))
		})
	}
}
