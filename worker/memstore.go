package worker

import (
	"context"
	"slices"
	"sync"

	"github.com/ferry-migrate/ferry/task"
)

// MemUploads is an UploadStore in memory. A Copier without a store uses
// one, so that its own retries of an object still resume the upload; it
// does not survive the process, so crash resume needs a durable store.
// It is safe for concurrent use.
type MemUploads struct {
	mu sync.Mutex
	m  map[memKey]task.UploadState
}

type memKey struct{ job, key string }

// NewMemUploads returns an empty store.
func NewMemUploads() *MemUploads { return &MemUploads{m: map[memKey]task.UploadState{}} }

func (s *MemUploads) LoadUpload(ctx context.Context, job, key string) (task.UploadState, bool, error) {
	if err := ctx.Err(); err != nil {
		return task.UploadState{}, false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.m[memKey{job, key}]
	st.Parts = slices.Clone(st.Parts) // the caller may modify its copy
	return st, ok, nil
}

func (s *MemUploads) SaveUpload(ctx context.Context, st task.UploadState) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	st.Parts = slices.Clone(st.Parts)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[memKey{st.Job, st.Key}] = st
	return nil
}

func (s *MemUploads) DropUpload(ctx context.Context, job, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, memKey{job, key})
	return nil
}

// Len is how many uploads are saved.
func (s *MemUploads) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}
