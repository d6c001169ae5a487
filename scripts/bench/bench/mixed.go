package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
)

// object is one key of a dataset and its size.
type object struct {
	key  string
	size int64
}

// objects lists dataset d's keys and sizes. Uniform sets are Count x Size
// under plain keys; a mixed set draws its sizes and keys from a fixed seed,
// so every run and every tool sees the same objects.
func (d dataset) objects() []object {
	out := make([]object, d.Count)
	if !d.Mixed {
		for i := range out {
			out[i] = object{fmt.Sprintf("obj/%03d/%08d", i%1000, i), d.Size}
		}
		return out
	}
	r := rand.New(rand.NewPCG(15, 5))
	for i := range out {
		out[i] = object{mixedKey(i), mixedSize(r)}
	}
	return out
}

// mixedSize: what a bucket of user uploads looks like by count: some empty
// objects (markers, placeholders), mostly tiny ones, a tail to 256 KiB.
func mixedSize(r *rand.Rand) int64 {
	switch p := r.IntN(100); {
	case p < 5:
		return 0
	case p < 60:
		return 1 + r.Int64N(4<<10)
	case p < 90:
		return 4<<10 + r.Int64N(60<<10)
	default:
		return 64<<10 + r.Int64N(192<<10+1)
	}
}

// mixedKey gives keys that a careless encoder breaks: spaces, non-ASCII,
// '+' (a space in form encoding), '%' (an escape), '~', '=' and '&', and
// deep paths. None ends in "/" and no segment is "." or "..", so a local
// filesystem can hold them all.
func mixedKey(i int) string {
	switch i % 6 {
	case 0:
		return fmt.Sprintf("mixed/photos %d/IMG %05d (copy).jpg", i%37, i)
	case 1:
		return fmt.Sprintf("mixed/ünïcødé/日本語/файл-%05d.txt", i)
	case 2:
		return fmt.Sprintf("mixed/a+b/c+d %05d+e.bin", i)
	case 3:
		return fmt.Sprintf("mixed/100%%/50%%20off-%05d%%2F.dat", i)
	case 4:
		return fmt.Sprintf("mixed/d1/d2/d3/d4/d5/d6/d7/d8/d9/d10/%03d/leaf-%05d", i%17, i)
	default:
		return fmt.Sprintf("mixed/q=1&r=2~x/%05d.json", i)
	}
}

// totalBytes is the sum of d's object sizes.
func (d dataset) totalBytes() int64 {
	var n int64
	for _, o := range d.objects() {
		n += o.size
	}
	return n
}

// describe is the dataset's shape for the tables.
func (d dataset) describe() string {
	if d.Mixed {
		return fmt.Sprintf("%d mixed, 0-256 KiB, %.1f MB", d.Count, float64(d.totalBytes())/1e6)
	}
	return fmt.Sprintf("%d x %s", d.Count, human(d.Size))
}

// writeLocal puts d's objects as files under dir, for the local -> S3
// series.
func writeLocal(dir string, d dataset, buf []byte) error {
	for i, o := range d.objects() {
		p := filepath.Join(dir, filepath.FromSlash(o.key))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		off := (int64(i) * 4099) % (int64(len(buf)) - o.size + 1)
		if err := os.WriteFile(p, buf[off:off+o.size], 0o644); err != nil {
			return fmt.Errorf("writing %s: %w", p, err)
		}
	}
	return nil
}
