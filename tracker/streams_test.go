package tracker

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// StartScanStreams records every stream at once, keeps existing
// checkpoints, and refuses a finished scan.
func TestStartScanStreams(t *testing.T) {
	s := newJob(t)
	_, err := s.AppendShards("j", 1, shardsOf("a", 0, 1, 3), nil, ScanCheckpoint{Stream: "a", After: "a/00000002"})
	require.NoError(t, err)
	require.NoError(t, s.StartScanStreams("j", 1, []string{"a", "b", "c"}))
	cps, err := s.ScanCheckpoints("j", 1)
	require.NoError(t, err)
	assert.Equal(t, map[string]ScanCheckpoint{
		"a": {Stream: "a", After: "a/00000002"},
		"b": {Stream: "b"},
		"c": {Stream: "c"},
	}, cps)

	require.Error(t, s.StartScanStreams("j", 2, []string{"x"}), "not the current pass")
	require.NoError(t, s.FinishScan("j", 1))
	err = s.StartScanStreams("j", 1, []string{"x"})
	require.ErrorContains(t, err, "scan already finished")
}
