package ossproxy

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ferry-migrate/ferry/storage/crc"
)

// Cue makes the proxy play the application that writes to the destination
// at the worst moment: when a request matching Method and Key has been
// served upstream, and before its answer reaches the client, the proxy
// stores Body under Key (through its own per-key lock, as any write
// through the proxy). A client that checked with HEAD and saw no object
// then writes into a key that is no longer empty: the check-then-write
// race, reproduced without timing.
type Cue struct {
	Method string // e.g. "HEAD"
	Key    string
	Body   []byte
}

// WriteOnCue queues c; it fires once, on the first matching request.
func (p *Proxy) WriteOnCue(c Cue) { p.cues.add(c) }

// PendingCues is how many queued cues have not fired yet.
func (p *Proxy) PendingCues() int { return p.cues.pending() }

type cueQueue struct {
	mu sync.Mutex
	q  []Cue
}

func (q *cueQueue) add(c Cue) {
	q.mu.Lock()
	q.q = append(q.q, c)
	q.mu.Unlock()
}

func (q *cueQueue) pending() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.q)
}

// take removes and returns the first cue matching the request.
func (q *cueQueue) take(method string, req reqInfo) (Cue, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for i, c := range q.q {
		if strings.EqualFold(c.Method, method) && c.Key == req.key && req.key != "" {
			q.q = append(q.q[:i], q.q[i+1:]...)
			return c, true
		}
	}
	return Cue{}, false
}

// fire stores c.Body under c.Key in bucket, as the bucket's owner. held
// says the request that triggered it already holds the key's lock (a cue
// on a write): the cued write then lands after the client's, still before
// the client hears back.
func (p *Proxy) fire(ctx context.Context, bucket string, c Cue, held bool) error {
	k := objectKey{bucket, c.Key}
	if !held {
		unlock := p.locks.lock(k)
		defer unlock()
	}
	_, err := p.owner.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(c.Key),
		Body: bytes.NewReader(c.Body)})
	if err != nil {
		return fmt.Errorf("ossproxy: cued write of %q: %w", c.Key, err)
	}
	p.crcs.setObject(k, crc.Checksum(c.Body))
	return nil
}
