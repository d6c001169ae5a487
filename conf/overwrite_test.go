package conf

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/task"
)

// overwritePolicy and OssImport's isSkipExistFile: a copied OssImport
// config keeps its meaning, overwritePolicy wins over it, and a
// disagreement between the two is a note naming both.
func TestOverwritePolicyKey(t *testing.T) {
	for _, tc := range []struct {
		name  string
		lines []string
		want  task.OverwritePolicy
		note  string
	}{
		{"neither: the safe default", nil, task.OverwriteIfSourceNewer, ""},
		{"isSkipExistFile=true", []string{"isSkipExistFile=true"}, task.OverwriteIfSourceNewer, ""},
		{"isSkipExistFile=false", []string{"isSkipExistFile=false"}, task.OverwriteAlways, ""},
		{"policy alone", []string{"overwritePolicy=never"}, task.OverwriteNever, ""},
		{"agreeing", []string{"isSkipExistFile=true", "overwritePolicy=if-different"}, task.OverwriteIfDifferent, ""},
		{"agreeing always", []string{"isSkipExistFile=false", "overwritePolicy=always"}, task.OverwriteAlways, ""},
		{"disagreeing: skip but always", []string{"isSkipExistFile=true", "overwritePolicy=always"}, task.OverwriteAlways,
			"isSkipExistFile=true is overridden by overwritePolicy=always"},
		{"disagreeing: overwrite but never", []string{"isSkipExistFile=false", "overwritePolicy=never"}, task.OverwriteNever,
			"isSkipExistFile=false is overridden by overwritePolicy=never"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j := mustParse(t, with(tc.lines...))
			assert.Equal(t, tc.want, j.Overwrite)
			if tc.note == "" {
				assert.Empty(t, j.Notes)
				return
			}
			require.Len(t, j.Notes, 1)
			assert.Contains(t, j.Notes[0], tc.note)
		})
	}
	_, err := parse(t, with("overwritePolicy=newer"))
	onlyProblem(t, err, "overwritePolicy", ErrInvalid, `"newer": use never, if-source-newer, if-different or always`)
}
