package tracker

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ferry-migrate/ferry/task"
)

const killChildEnv = "FERRY_TRACKER_KILL_CHILD"

var killStreams = []string{"s1", "s2", "s3"}

func killKey(stream string, i int) string { return fmt.Sprintf("%s/%08d", stream, i) }

// TestKillSafety SIGKILLs a process that is appending shards, several
// times, resuming each time from the scan checkpoints as a restarted
// master would, then checks that the database opens and that for every
// stream the shards and skipped objects cover exactly the keys up to the
// checkpoint: none twice, none missed.
func TestKillSafety(t *testing.T) {
	if dir := os.Getenv(killChildEnv); dir != "" {
		killChild(t, dir)
		return
	}
	if testing.Short() {
		t.Skip("spawns processes")
	}
	dir := t.TempDir()
	for round := 0; round < 4; round++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestKillSafety$", "-test.count=1")
		cmd.Env = append(os.Environ(), killChildEnv+"="+dir)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		lines := 0
		for lines < 15+round*5 && sc.Scan() {
			if strings.HasPrefix(sc.Text(), "appended") {
				lines++
			}
		}
		// Land the kill at a random point, likely inside a transaction.
		time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond)
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		_ = cmd.Wait()
		if lines == 0 {
			t.Fatalf("round %d: child appended nothing", round)
		}
	}

	s := openTest(t, dir)
	cps, err := s.ScanCheckpoints("j", 1)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	lastOfStream := map[string]string{}
	shards := int64(0)
	err = s.Shards("j", 1, ShardAny, func(r ShardRecord) error {
		shards++
		for _, o := range r.Objects {
			if seen[o.Key] {
				t.Errorf("key %s sharded twice", o.Key)
			}
			seen[o.Key] = true
		}
		lastOfStream[strings.Split(r.Objects[0].Key, "/")[0]] = r.Objects[len(r.Objects)-1].Key
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	skipped := int64(0)
	err = s.Manifest("j", task.StatusSkipped, "", func(e Entry) error {
		skipped++
		if seen[e.Key] {
			t.Errorf("key %s both sharded and skipped", e.Key)
		}
		seen[e.Key] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, st := range killStreams {
		cp := cps[st]
		if cp.After != lastOfStream[st] {
			t.Errorf("stream %s: checkpoint %q, last sharded key %q", st, cp.After, lastOfStream[st])
		}
		last := -1
		if cp.After != "" {
			last, _ = strconv.Atoi(strings.TrimPrefix(cp.After, st+"/"))
		}
		for i := 0; i <= last; i++ {
			if !seen[killKey(st, i)] {
				t.Fatalf("stream %s: key %d missing (checkpoint %s)", st, i, cp.After)
			}
		}
		total += last + 1
	}
	if len(seen) != total {
		t.Errorf("%d keys stored, %d up to the checkpoints", len(seen), total)
	}
	p := mustPass(t, s, 1)
	if p.Scanned != int64(total) || p.Shards != shards || p.Skipped != skipped {
		t.Errorf("counters scanned %d shards %d skipped %d; stored %d keys, %d shards, %d skipped",
			p.Scanned, p.Shards, p.Skipped, total, shards, skipped)
	}
	t.Logf("after 4 kills: %d shards, %d objects", shards, total)
}

// killChild appends forever (until killed), resuming from the checkpoints.
func killChild(t *testing.T, dir string) {
	s, err := Open(dir, Options{LockTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.GetJob("j"); !ok {
		if err := s.PutJob(Job{Name: "j"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.StartPass("j", t0); err != nil {
			t.Fatal(err)
		}
	}
	cps, err := s.ScanCheckpoints("j", 1)
	if err != nil {
		t.Fatal(err)
	}
	next := map[string]int{}
	for _, st := range killStreams {
		if a := cps[st].After; a != "" {
			i, _ := strconv.Atoi(strings.TrimPrefix(a, st+"/"))
			next[st] = i + 1
		}
	}
	for i := 0; i < 100000; i++ {
		st := killStreams[i%len(killStreams)]
		// One skipped object, then two shards of 200.
		skipped := []task.Result{result(killKey(st, next[st]), task.StatusSkipped, 1)}
		shards := shardsOf(st, next[st]+1, 2, 200)
		next[st] += 401
		cp := ScanCheckpoint{Stream: st, After: killKey(st, next[st]-1)}
		if _, err := s.AppendShards("j", 1, shards, skipped, cp); err != nil {
			t.Fatal(err)
		}
		fmt.Println("appended", i)
	}
}
