package storage

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// probePrefix starts the name of every scratch object ProbeKey makes.
const probePrefix = ".ferry-probe-"

// ProbeKey is a fresh scratch key for ProbeConditions under prefix (a
// job's destination prefix): random, so nobody else writes it.
func ProbeKey(prefix string) string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return prefix + probePrefix + hex.EncodeToString(b[:])
}

// IsProbeKey says whether rel, a key relative to the prefix ProbeKey was
// given, names a probe's scratch object: one that exists for a moment
// while a master or a worker probes, and that listings of the
// destination (delete propagation, the audit's count) must leave alone.
func IsProbeKey(rel string) bool { return strings.HasPrefix(rel, probePrefix) }

// ProbeConditions finds out which conditional writes b's store really
// enforces, by trying each one on a scratch object under key: a store may
// accept a header it does not implement, answer 200 and overwrite, and
// only a refusal seen proves enforcement. A job probes its destination
// once, before copying, and says once what is missing (Residual).
//
// For each condition it makes one write that must be refused (create-only
// over the existing object, if-match with a wrong version) and checks the
// object is untouched; an if-match is also tried with the right version,
// which must succeed: a store that refuses everything enforces nothing
// useful. Multipart completes are tried when b implements Multipart, with
// one-byte single-part uploads.
//
// Cost: about 20 small requests and a few bytes. It leaves nothing behind:
// the scratch object and every upload are removed before it returns,
// also on failure and after ctx ends (cleanup gets its own short
// deadline). key must be one nobody else uses (e.g. under a job's own
// prefix, with a random part): if it exists, the probe fails without
// touching it.
//
// An error means the probe could not tell (transient or fatal failures,
// a scratch key in use); the result is meaningful only without one.
func ProbeConditions(ctx context.Context, b Backend, key string) (got Conditions, err error) {
	p := prober{b: b, key: key}
	if _, err := b.Stat(ctx, key); err == nil {
		return got, fmt.Errorf("probe %s: scratch key %q exists: choose a key nobody else uses", b, key)
	} else if !errors.Is(err, ErrNotFound) {
		return got, fmt.Errorf("probe %s: %w", b, err)
	}
	defer func() {
		if cerr := p.cleanup(ctx); cerr != nil && err == nil {
			err = fmt.Errorf("probe %s: cleaning up: %w", b, cerr)
		}
	}()

	// Create the scratch object with IfAbsent, which must succeed: a store
	// that refuses even a condition that holds enforces nothing useful.
	putIfAbsent := func(size int64) error {
		_, err := p.put(ctx, size, IfAbsent())
		return err
	}
	accepted, err := p.accepted(ctx, putIfAbsent)
	if err != nil {
		return got, err
	}
	if got.PutIfAbsent, err = p.refused(ctx, putIfAbsent); err != nil || !accepted {
		got.PutIfAbsent = false
		if err != nil {
			return got, err
		}
	}
	if got.PutIfMatch, err = p.ifMatch(ctx, func(size int64, c Condition) error {
		_, err := p.put(ctx, size, c)
		return err
	}); err != nil {
		return got, err
	}

	m, ok := b.(Multipart)
	if !ok {
		return got, nil
	}
	complete := func(size int64, c Condition) error {
		u, err := m.CreateUpload(ctx, key, ObjectInfo{})
		if err != nil {
			return err
		}
		p.uploads = append(p.uploads, u)
		part, err := m.UploadPart(ctx, u, 1, strings.NewReader(strings.Repeat("m", int(size))), size)
		if err != nil {
			return err
		}
		u.Condition = c
		_, err = m.CompleteUpload(ctx, u, []Part{part})
		return err
	}
	completeIfAbsent := func(size int64) error { return complete(size, IfAbsent()) }
	if got.CompleteIfAbsent, err = p.refused(ctx, completeIfAbsent); err != nil {
		return got, err
	}
	if got.CompleteIfAbsent {
		if err := b.Delete(ctx, key); err != nil {
			return got, fmt.Errorf("probe %s: %w", b, err)
		}
		p.created = false
		if got.CompleteIfAbsent, err = p.accepted(ctx, completeIfAbsent); err != nil {
			return got, err
		}
	}
	if got.CompleteIfMatch, err = p.ifMatch(ctx, complete); err != nil {
		return got, err
	}
	return got, nil
}

// prober writes the scratch object with a new size each time, so a Stat
// tells which write, if any, replaced it.
type prober struct {
	b       Backend
	key     string
	size    int64 // the size the scratch object must have now
	next    int64 // the size of the next write
	created bool
	uploads []Upload
}

func (p *prober) put(ctx context.Context, size int64, c Condition) (ObjectInfo, error) {
	info, err := p.b.Put(ctx, p.key, strings.NewReader(strings.Repeat("p", int(size))), ObjectInfo{Size: size, Condition: c})
	if err == nil {
		p.size = size
	}
	return info, err
}

// newSize returns a size no earlier write used.
func (p *prober) newSize() int64 {
	p.next = max(p.next, p.size) + 1
	return p.next
}

// accepted creates the scratch object, which must not exist, by write
// (a create-only write) and reports whether the store accepted it. If it
// refused, the object is created unconditionally, so the probe can go on;
// unless the key has appeared meanwhile, which makes it someone else's:
// then it is left alone and the probe fails.
func (p *prober) accepted(ctx context.Context, write func(size int64) error) (bool, error) {
	size := p.newSize()
	err := write(size)
	switch {
	case err == nil:
		p.created = true
		info, err := p.b.Stat(ctx, p.key)
		if err != nil {
			return false, fmt.Errorf("probe %s: %w", p.b, err)
		}
		p.size = info.Size
		return info.Size == size, nil
	case Classify(err) != Permanent:
		return false, fmt.Errorf("probe %s: creating scratch object: %w", p.b, err)
	}
	if _, serr := p.b.Stat(ctx, p.key); !errors.Is(serr, ErrNotFound) {
		return false, fmt.Errorf("probe %s: scratch key %q was created by someone else during the probe (%v)", p.b, p.key, serr)
	}
	if _, err := p.put(ctx, p.newSize(), Condition{}); err != nil {
		return false, fmt.Errorf("probe %s: creating scratch object: %w", p.b, err)
	}
	p.created = true
	return false, nil
}

// refused runs write, which the store must refuse, and reports whether it
// did, leaving the scratch object as it was. An error is returned only
// when the probe cannot tell.
func (p *prober) refused(ctx context.Context, write func(size int64) error) (bool, error) {
	size := p.newSize()
	err := write(size)
	switch {
	case err == nil:
		p.size = size // the store wrote it: the condition was ignored
		return false, nil
	case errors.Is(err, ErrPrecondition):
	case Classify(err) == Permanent:
		// ErrConditionUnsupported, or a store that refuses the header
		// itself (400, 501): not enforced, and nothing to retry.
		return false, nil
	default:
		return false, fmt.Errorf("probe %s: %w", p.b, err)
	}
	info, err := p.b.Stat(ctx, p.key)
	if err != nil {
		return false, fmt.Errorf("probe %s: %w", p.b, err)
	}
	if info.Size != p.size {
		// Refused, and yet replaced: worse than ignoring the condition.
		p.size = info.Size
		return false, nil
	}
	return true, nil
}

// ifMatch checks that write under IfMatch is refused for a wrong version
// and accepted for the right one.
func (p *prober) ifMatch(ctx context.Context, write func(size int64, c Condition) error) (bool, error) {
	cur, err := p.b.Stat(ctx, p.key)
	if err != nil {
		return false, fmt.Errorf("probe %s: %w", p.b, err)
	}
	wrong := VersionOf(cur)
	wrong.Size++
	wrong.ModTime = wrong.ModTime.Add(-time.Hour)
	if wrong.ETag != "" {
		wrong.ETag = "0" + wrong.ETag[1:]
		if ETagEqual(wrong.ETag, cur.ETag) {
			wrong.ETag = "1" + wrong.ETag[1:]
		}
	}
	ok, err := p.refused(ctx, func(size int64) error { return write(size, Condition{IfMatch: wrong}) })
	if err != nil || !ok {
		return false, err
	}
	size := p.newSize()
	switch err := write(size, IfMatch(cur)); {
	case err == nil:
		p.size = size
	case Classify(err) == Permanent:
		return false, nil // refuses even the right version
	default:
		return false, fmt.Errorf("probe %s: %w", p.b, err)
	}
	now, err := p.b.Stat(ctx, p.key)
	if err != nil {
		return false, fmt.Errorf("probe %s: %w", p.b, err)
	}
	return now.Size == size, nil
}

// cleanup removes what the probe made, even after ctx ended.
func (p *prober) cleanup(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	var errs []error
	if m, ok := p.b.(Multipart); ok {
		for _, u := range p.uploads {
			// Aborting a completed upload is a no-op that succeeds.
			errs = append(errs, m.AbortUpload(ctx, u))
		}
	}
	if p.created {
		errs = append(errs, p.b.Delete(ctx, p.key))
	}
	return errors.Join(errs...)
}
