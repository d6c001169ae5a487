package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// masterProc is one run of `ferry master`; the harness kills it with
// SIGKILL in the middle and starts another on the same data dir.
type masterProc struct {
	cmd  *exec.Cmd
	pid  int
	done chan struct{} // closed when the process has exited
	err  error         // its exit status, once done
}

// masterArgs are the flags of every start: the same address, data dir,
// certificate and token, so the restarted master is the one workers knew.
type masterArgs struct {
	bin, dataDir, addr, cert, key, tokenFile, profile, leaseTTL, heartbeat string
	cpus                                                                   string // taskset -c list; empty: unpinned
}

func startMaster(ctx context.Context, a masterArgs, logPath string) (*masterProc, error) {
	args := []string{"master", "--data-dir", a.dataDir, "--listen", a.addr, "--tls-cert", a.cert, "--tls-key", a.key,
		"--token-file", a.tokenFile, "--lease-ttl", a.leaseTTL, "--heartbeat", a.heartbeat}
	if a.profile != "" {
		args = append(args, "--cpuprofile", a.profile)
	}
	lf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	bin := a.bin
	if a.cpus != "" {
		// exec'd in place by taskset: the pid, SIGKILL and /proc figures
		// are still the master's own.
		args = append([]string{"-c", a.cpus, a.bin}, args...)
		bin = "taskset"
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = lf, lf
	// SIGTERM, not SIGKILL, when ctx ends: a profile is written on a
	// clean stop only.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 30 * time.Second
	if err := cmd.Start(); err != nil {
		_ = lf.Close()
		return nil, fmt.Errorf("starting %s: %w", a.bin, err)
	}
	p := &masterProc{cmd: cmd, pid: cmd.Process.Pid, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		_ = lf.Close()
		close(p.done)
	}()
	return p, nil
}

// kill is kill -9: the master gets no chance to flush anything.
func (p *masterProc) kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

// stop asks for a clean exit (SIGTERM) and waits for it; stopping a
// master that has exited returns at once.
func (p *masterProc) stop() error {
	select {
	case <-p.done:
		return p.err
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return p.err
	case <-time.After(60 * time.Second):
		p.kill()
		return fmt.Errorf("master %d did not stop in 60 s", p.pid)
	}
}

// procStats are the master's own figures, from /proc: they do not depend
// on wall time, so they hold up on a busy machine.
type procStats struct {
	CPUSeconds  float64 // utime + stime
	HWMMiB      float64 // peak RSS (VmHWM)
	RSSMiB      float64 // RSS now (VmRSS)
	WriteBytes  int64   // bytes this process caused to be written to storage
	WriteCalls  int64   // write system calls (syscw)
	Sampled     bool
	SampledWhen time.Time
}

func readProc(pid int) (procStats, error) {
	var s procStats
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return s, err
	}
	// Fields after the ")" closing the command name: utime and stime are
	// the 12th and 13th, in clock ticks (1/100 s on Linux).
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) > 12 {
		u, _ := strconv.ParseFloat(f[11], 64)
		st, _ := strconv.ParseFloat(f[12], 64)
		s.CPUSeconds = (u + st) / 100
	}
	if st, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(st))
		for sc.Scan() {
			k, v, ok := strings.Cut(sc.Text(), ":")
			if !ok {
				continue
			}
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			switch k {
			case "VmHWM":
				s.HWMMiB = kb / 1024
			case "VmRSS":
				s.RSSMiB = kb / 1024
			}
		}
	}
	if io, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid)); err == nil {
		for _, l := range strings.Split(string(io), "\n") {
			k, v, _ := strings.Cut(l, ": ")
			n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			switch k {
			case "write_bytes":
				s.WriteBytes = n
			case "syscw":
				s.WriteCalls = n
			}
		}
	}
	s.Sampled, s.SampledWhen = true, time.Now()
	return s, nil
}

// dirSize is the bytes of the regular files under dir.
func dirSize(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// loadavg is /proc/loadavg's first three fields: every figure is printed
// with it, since other work shares the machine.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// pinSelf confines every thread of this process, and those it starts
// later, to cpus: on a small machine the simulated workers then leave the
// master a core of its own (see -master-cpus).
func pinSelf(cpus string) error {
	out, err := exec.Command("taskset", "-a", "-p", "-c", cpus, strconv.Itoa(os.Getpid())).CombinedOutput()
	if err != nil {
		return fmt.Errorf("taskset -c %s on pid %d: %w: %s", cpus, os.Getpid(), err, out)
	}
	return nil
}
