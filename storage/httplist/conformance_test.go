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
		New: func(t *testing.T) (storage.Backend, func(string, []byte)) {
			o := newOrigin(t)
			return o.backend(t, httplist.Options{}), func(k string, d []byte) { o.put(t, "files/", k, d) }
		}})
}
