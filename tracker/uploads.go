package tracker

import (
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/ferry-migrate/ferry/task"
)

// PutUpload saves a multipart upload's state (after it is created and
// after each part), replacing any earlier state for the same source key.
func (s *Store) PutUpload(u task.UploadState) error {
	if u.Key == "" || len(u.Key) > bolt.MaxKeySize {
		return fmt.Errorf("tracker: put upload to job %q: invalid key %q", u.Job, u.Key)
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		jt, err := openJob(tx, u.Job)
		if err != nil {
			return err
		}
		return jt.sub(bktUploads, fillManifest).Put([]byte(u.Key), encodeUpload(&u))
	})
	if err != nil {
		return fmt.Errorf("tracker: put upload %q of job %q: %w", u.Key, u.Job, err)
	}
	return nil
}

// GetUpload returns the saved upload state of a source key, or ok=false.
func (s *Store) GetUpload(job, key string) (u task.UploadState, ok bool, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		jt, err := openJob(tx, job)
		if err != nil {
			return err
		}
		v := jt.sub(bktUploads, fillManifest).Get([]byte(key))
		if v == nil {
			return nil
		}
		u, err = decodeUpload(job, key, v)
		ok = err == nil
		return err
	})
	if err != nil {
		return task.UploadState{}, false, fmt.Errorf("tracker: get upload %q of job %q: %w", key, job, err)
	}
	return u, ok, nil
}

// DeleteUpload forgets an upload (completed or aborted). Deleting one
// that is not there is not an error.
func (s *Store) DeleteUpload(job, key string) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		jt, err := openJob(tx, job)
		if err != nil {
			return err
		}
		return jt.sub(bktUploads, fillManifest).Delete([]byte(key))
	})
	if err != nil {
		return fmt.Errorf("tracker: delete upload %q of job %q: %w", key, job, err)
	}
	return nil
}

// Uploads calls fn for each saved upload of the job in key order (e.g. to
// abort leftovers when a job is deleted or finished).
func (s *Store) Uploads(job string, fn func(task.UploadState) error) error {
	after := "" // keys are never empty, so "" seeks to the first
	for {
		var batch []task.UploadState
		more := false
		err := s.db.View(func(tx *bolt.Tx) error {
			jt, err := openJob(tx, job)
			if err != nil {
				return err
			}
			c := jt.sub(bktUploads, fillManifest).Cursor()
			k, v := c.Seek([]byte(after))
			if k != nil && string(k) == after {
				k, v = c.Next()
			}
			for ; k != nil; k, v = c.Next() {
				if len(batch) >= batchRecords {
					more = true
					break
				}
				after = string(k)
				u, err := decodeUpload(job, after, v)
				if err != nil {
					return fmt.Errorf("upload %q: %w", k, err)
				}
				batch = append(batch, u)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("tracker: uploads of job %q: %w", job, err)
		}
		for _, u := range batch {
			if err := fn(u); err != nil {
				return err
			}
		}
		if !more {
			return nil
		}
	}
}
