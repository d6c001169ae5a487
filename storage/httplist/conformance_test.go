package httplist_test

import (
	"testing"

	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/storage/httplist"
	"github.com/ferry-migrate/ferry/storage/storagetest"
)

// The source cases of the conformance suite, against files served by
// nginx through a URL list (255: the longest file name nginx's disk has).
func TestConformance(t *testing.T) {
	storagetest.RunSource(t, storagetest.SourceHarness{MaxSegment: 255,
		Seed: func(t *testing.T, objs map[string][]byte) storage.Backend {
			o := newOrigin(t)
			for k, d := range objs {
				o.put(t, "files/", k, d)
			}
			return o.backend(t, httplist.Options{})
		}})
}
