package tracker

import (
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// StartScanStreams records an empty checkpoint for each of streams in pass
// n, in one transaction: a scan that splits its listing into streams
// records the whole layout before listing any of them, so that a scan
// killed at any moment resumes with all of the streams or none (a partial
// layout would miss the key ranges of the streams not yet recorded).
// Streams that already have a checkpoint are left as they are.
func (s *Store) StartScanStreams(job string, n uint64, streams []string) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		jt, _, err := scanningPass(tx, job, n)
		if err != nil {
			return err
		}
		scan := jt.sub(bktScan, fillAppend)
		for _, name := range streams {
			k := scanKey(n, name)
			if len(k) > bolt.MaxKeySize {
				return fmt.Errorf("stream name of %d bytes is too long", len(name))
			}
			if scan.Get(k) != nil {
				continue
			}
			if err := scan.Put(k, encodeScan(ScanCheckpoint{Stream: name})); err != nil {
				return fmt.Errorf("scan checkpoint %q: %w", name, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("tracker: start scan streams of job %q pass %d: %w", job, n, err)
	}
	return nil
}

// scanningPass opens the job for a write to pass n's scan, which must be
// the job's current pass, unfinished and still scanning.
func scanningPass(tx *bolt.Tx, job string, n uint64) (*jobTx, Pass, error) {
	jt, err := openJob(tx, job)
	if err != nil {
		return nil, Pass{}, err
	}
	p, err := jt.pass(n)
	if err != nil {
		return nil, Pass{}, err
	}
	switch {
	case n != jt.job.Pass:
		return nil, Pass{}, fmt.Errorf("pass %d is not the current pass %d", n, jt.job.Pass)
	case !p.Finished.IsZero():
		return nil, Pass{}, errors.New("pass is finished")
	case p.ScanFinished:
		return nil, Pass{}, errors.New("scan already finished")
	}
	return jt, p, nil
}
