package master

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/ferry-migrate/ferry/conf"
)

// Files a master keeps per job under <DataDir>/jobs, next to the tracker
// (which holds only the redacted config):
//
//	<job>.cfg       the submitted config, credentials included (0600), after
//	                a first line naming the file it was submitted as
//	<job>.throttle  a runtime throttle override (SetThrottle), JSON
//	<job>.paused    present while the job is paused
//	<job>.keysgen   the keys generation (SetCredentials; credentials.go)
//
// Job names are checked by conf (letters, digits, '_', '-', '.'), and
// every caller looks the job up before touching its files, so a name
// never escapes the directory.
const (
	extConfig   = ".cfg"
	extThrottle = ".throttle"
	extPaused   = ".paused"

	// headerPrefix starts the first line of a saved config: relative local
	// paths in a config are resolved against the directory of the name it
	// was submitted as, so a restarted master must parse it the same way.
	headerPrefix = "# ferry: submitted as "
)

// jobFiles owns those files. It holds no state but the directory: every
// answer comes from the disk, so a restarted master reads what was written.
type jobFiles struct{ dir string }

func newJobFiles(dataDir string) jobFiles { return jobFiles{dir: filepath.Join(dataDir, "jobs")} }

func (f jobFiles) path(job, ext string) string {
	return filepath.Join(f.dir, job+ext)
}

// writePrivate writes data atomically (temp file, fsync, rename) with mode
// 0600 in a 0700 directory: the file may hold credentials.
func writePrivate(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename: a no-op
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// saveConfig keeps the submitted text with credentials for the workers
// (GetJob) and for restarts.
func (f jobFiles) saveConfig(job, name, text string) error {
	name = strings.NewReplacer("\n", " ", "\r", " ").Replace(name)
	if err := writePrivate(f.path(job, extConfig), []byte(headerPrefix+name+"\n"+text)); err != nil {
		return fmt.Errorf("job %q: saving its config: %w", job, err)
	}
	return nil
}

// readConfig returns the submitted text and name; fs.ErrNotExist when the
// job was not submitted to this master (e.g. run with `ferry run`).
func (f jobFiles) readConfig(job string) (text, name string, err error) {
	b, err := os.ReadFile(f.path(job, extConfig))
	if err != nil {
		return "", "", fmt.Errorf("job %q: reading its saved config: %w", job, err)
	}
	s := string(b)
	if rest, ok := strings.CutPrefix(s, headerPrefix); ok {
		name, s, _ = strings.Cut(rest, "\n")
	}
	return s, name, nil
}

// loadConfig parses the saved config as it was parsed when submitted.
func (f jobFiles) loadConfig(job string) (*conf.Job, error) {
	text, name, err := f.readConfig(job)
	if err != nil {
		return nil, err
	}
	j, err := conf.Parse(strings.NewReader(text), name)
	if err != nil {
		return nil, fmt.Errorf("job %q: saved config no longer parses: %w", job, err)
	}
	if j.Name != job {
		return nil, fmt.Errorf("job %q: saved config names job %q", job, j.Name)
	}
	return j, nil
}

type throttleFile struct {
	BytesPerSecond   int64   `json:"bytes_per_second"`
	ObjectsPerSecond float64 `json:"objects_per_second"`
}

func (f jobFiles) saveThrottle(job string, l Limits) error {
	b, _ := json.Marshal(throttleFile(l))
	if err := writePrivate(f.path(job, extThrottle), append(b, '\n')); err != nil {
		return fmt.Errorf("job %q: saving its throttle: %w", job, err)
	}
	return nil
}

func (f jobFiles) removeThrottle(job string) error {
	if err := os.Remove(f.path(job, extThrottle)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("job %q: removing its throttle: %w", job, err)
	}
	return nil
}

// loadThrottle returns the override, or ok=false when there is none.
func (f jobFiles) loadThrottle(job string) (l Limits, ok bool, err error) {
	b, err := os.ReadFile(f.path(job, extThrottle))
	if errors.Is(err, fs.ErrNotExist) {
		return Limits{}, false, nil
	}
	if err != nil {
		return Limits{}, false, fmt.Errorf("job %q: reading its throttle: %w", job, err)
	}
	var t throttleFile
	if err := json.Unmarshal(b, &t); err != nil {
		return Limits{}, false, fmt.Errorf("job %q: %s: %w", job, f.path(job, extThrottle), err)
	}
	return Limits(t), true, nil
}

func (f jobFiles) setPaused(job string, paused bool) error {
	path := f.path(job, extPaused)
	var err error
	if paused {
		err = writePrivate(path, nil)
	} else if err = os.Remove(path); errors.Is(err, fs.ErrNotExist) {
		err = nil
	}
	if err != nil {
		return fmt.Errorf("job %q: recording pause: %w", job, err)
	}
	return nil
}

func (f jobFiles) paused(job string) bool {
	_, err := os.Stat(f.path(job, extPaused))
	return err == nil
}

// removeJobFiles forgets everything the master kept for the job.
func (f jobFiles) remove(job string) error {
	var errs []error
	for _, ext := range []string{extConfig, extThrottle, extPaused, extKeysGen} {
		if err := os.Remove(f.path(job, ext)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("job %q: removing its files: %w", job, err)
	}
	return nil
}
