package master

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"

	"github.com/ferry-migrate/ferry/conf"
	"github.com/ferry-migrate/ferry/storage/backends"
	"github.com/ferry-migrate/ferry/storage/creds"
)

// Keys are one side's static credentials, as SetCredentials takes them.
type Keys struct {
	AccessKey    string
	SecretKey    string // secret
	SessionToken string // secret; "" for long-lived keys
}

// extKeysGen is the file holding a job's keys generation (a decimal
// counter, absent = 0): it changes whenever SetCredentials gives the job
// new keys, and reaches workers with their heartbeats.
const extKeysGen = ".keysgen"

func (f jobFiles) keysGen(job string) (uint64, error) {
	b, err := os.ReadFile(f.path(job, extKeysGen))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("job %q: reading its keys generation: %w", job, err)
	}
	n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("job %q: %s: %w", job, f.path(job, extKeysGen), err)
	}
	return n, nil
}

func (f jobFiles) saveKeysGen(job string, n uint64) error {
	if err := writePrivate(f.path(job, extKeysGen), []byte(strconv.FormatUint(n, 10)+"\n")); err != nil {
		return fmt.Errorf("job %q: saving its keys generation: %w", job, err)
	}
	return nil
}

// attachKeys returns a copy of cfg that logs credential refreshes to the
// master's log and whose static sides sign through the job's key
// holders, created here the first time, so that SetCredentials reaches
// the backends the master has open (the scanner's source, the
// destination it probes and lists).
func (m *Manager) attachKeys(jr *jobRun, cfg *conf.Job) *conf.Job {
	c := *cfg
	c.Src.Log, c.Dest.Log = m.log, m.log
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range []struct {
		spec   *backends.Spec
		holder **creds.Static
	}{{&c.Src, &jr.srcKeys}, {&c.Dest, &jr.dstKeys}} {
		if !s.spec.SignsWithStaticKeys() {
			continue
		}
		if *s.holder == nil {
			*s.holder = creds.NewStatic(s.spec.AccessKey, s.spec.SecretKey, s.spec.SessionToken)
		} else {
			(*s.holder).Set(s.spec.AccessKey, s.spec.SecretKey, s.spec.SessionToken)
		}
		s.spec.Keys = *s.holder
	}
	return &c
}

// KeysGeneration is the job's current keys generation (see extKeysGen).
func (m *Manager) KeysGeneration(job string) (uint64, error) {
	if _, err := m.job(job); err != nil {
		return 0, err
	}
	return m.files.keysGen(job)
}

// SetCredentials gives a job new static keys for side ("src" or "dest")
// without resubmitting it: they replace the side's keys in the saved
// config, the master's own backends sign with them at once, and workers
// switch at their next heartbeat (the keys generation changes). The old
// keys can be revoked once the workers have switched. Only a side with
// static keys can be given keys; a provider (command, file, role) renews
// its own.
func (m *Manager) SetCredentials(_ context.Context, job, side string, k Keys) error {
	jr, _, unlock, err := m.lockedJob(job)
	if err != nil {
		return err
	}
	defer unlock()
	if side != "src" && side != "dest" {
		return fmt.Errorf("%w: job %q: side %q: use src or dest", ErrInvalid, job, side)
	}
	if k.AccessKey == "" || k.SecretKey == "" {
		return fmt.Errorf("%w: job %q: %s: both the access key and the secret key are needed", ErrInvalid, job, side)
	}
	text, name, err := m.files.readConfig(job)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: job %q has no saved config here (run with `ferry run`?): use a credentials file (%sCredentials=file:...) to rotate its keys", ErrJobState, job, side)
	}
	if err != nil {
		return err
	}
	old, err := conf.Parse(strings.NewReader(text), name)
	if err != nil {
		return fmt.Errorf("job %q: saved config no longer parses: %w", job, err)
	}
	if s := pickSide(old, side); !s.SignsWithStaticKeys() {
		return fmt.Errorf("%w: job %q: the %s side does not use static keys (%sCredentials=%s): its provider renews them itself",
			ErrInvalid, job, side, side, s.Credentials.Kind)
	}
	text = replaceKeys(text, side, k)
	cfg, err := conf.Parse(strings.NewReader(text), name)
	if err != nil {
		// Keys cannot make a config invalid but for their form; name the
		// problem without the values.
		return fmt.Errorf("%w: job %q: the config with the new %s keys does not parse", ErrInvalid, job, side)
	}
	gen, err := m.files.keysGen(job)
	if err != nil {
		return err
	}
	// The config first, then the generation: a worker that fetches in
	// between gets the new keys with the old generation and only fetches
	// once more.
	if err := m.files.saveConfig(job, name, text); err != nil {
		return err
	}
	if err := m.files.saveKeysGen(job, gen+1); err != nil {
		return err
	}
	cfg = m.attachKeys(jr, cfg)
	m.mu.Lock()
	if jr.cfg != nil {
		jr.cfg = cfg
	}
	jr.keysGen = gen + 1
	m.mu.Unlock()
	m.log.Info("new keys given", "job", job, "side", side, "keys_generation", gen+1)
	return nil
}

func pickSide(j *conf.Job, side string) backends.Spec {
	if side == "src" {
		return j.Src
	}
	return j.Dest
}

// replaceKeys drops the side's key lines from a config text and appends
// the new ones (a token line only when there is a token).
func replaceKeys(text, side string, k Keys) string {
	drop := map[string]bool{side + "AccessKey": true, side + "SecretKey": true, side + "SecurityToken": true}
	var out []string
	for _, l := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		key, _, _ := strings.Cut(strings.TrimSpace(strings.TrimPrefix(l, "\ufeff")), "=")
		if drop[strings.TrimSpace(key)] {
			continue
		}
		out = append(out, l)
	}
	out = append(out, "# keys given with `ferry credentials`",
		side+"AccessKey="+k.AccessKey, side+"SecretKey="+k.SecretKey)
	if k.SessionToken != "" {
		out = append(out, side+"SecurityToken="+k.SessionToken)
	}
	return strings.Join(out, "\n") + "\n"
}
