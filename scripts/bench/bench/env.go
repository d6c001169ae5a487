package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/ferry-migrate/ferry/internal/testkit/testserver"
)

type env struct {
	c        *config
	src, dst *testserver.S3Server
	sc, dc   *s3.Client
	bundle   string // both servers' certificates
	seq      int
	// cpu holds each run's CPU seconds by series key (dataset/tool): the
	// tool's own and both servers'. Wall time is what a user sees; CPU
	// time is steadier on a shared 2-core box and says where it goes.
	cpu     map[string][]runCPU
	warming bool // the run in progress is a warm-up: not recorded
}

type runCPU struct{ tool, servers float64 }

// serverCPU is the CPU seconds both servers used so far, from
// /proc/PID/stat (utime + stime, in clock ticks of 1/100 s on Linux).
func (e *env) serverCPU() float64 {
	var total float64
	for _, s := range []*testserver.S3Server{e.src, e.dst} {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.Pid()))
		if err != nil {
			continue
		}
		// Fields after the ")" closing the command name: utime and
		// stime are the 12th and 13th.
		f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		if len(f) > 12 {
			u, _ := strconv.ParseFloat(f[11], 64)
			st, _ := strconv.ParseFloat(f[12], 64)
			total += (u + st) / 100
		}
	}
	return total
}

func unsigned(o *s3.Options) {
	o.APIOptions = append(o.APIOptions, v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware)
}

func (e *env) setup() error {
	e.sc, e.dc = e.src.Client(), e.dst.Client()
	a, err := os.ReadFile(e.src.Cert.CertFile)
	if err != nil {
		return err
	}
	b, err := os.ReadFile(e.dst.Cert.CertFile)
	if err != nil {
		return err
	}
	e.bundle = filepath.Join(e.c.work, "s3", "ca-bundle.pem")
	if err := os.WriteFile(e.bundle, append(a, b...), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(e.c.work, "rclone.conf"), nil, 0o600); err != nil {
		return err
	}
	ctx := context.Background()
	buf := make([]byte, 64<<20)
	_, _ = rand.NewChaCha8([32]byte{7}).Read(buf)
	for _, d := range e.c.sets {
		t := time.Now()
		if d.Local {
			dir := e.localDir(d)
			if err := os.RemoveAll(dir); err != nil {
				return err
			}
			if err := writeLocal(dir, d, buf); err != nil {
				return fmt.Errorf("generating %s: %w", d.Name, err)
			}
			logf("generated %s: %s in %s", d.Name, d.describe(), time.Since(t).Round(time.Millisecond))
			continue
		}
		if err := e.src.MakeBucket(ctx, d.Name); err != nil {
			return err
		}
		if err := e.generate(ctx, d, buf); err != nil {
			return fmt.Errorf("generating %s: %w", d.Name, err)
		}
		logf("generated %s: %s in %s", d.Name, d.describe(), time.Since(t).Round(time.Millisecond))
	}
	// The servers' files are still dirty in the page cache: without this
	// the first timed run shares the disk with their write-back.
	syscall.Sync()
	return nil
}

// generate fills bucket d.Name through the S3 API: many PUTs at once,
// objects above 64 MiB as multipart with 64 MiB parts.
func (e *env) generate(ctx context.Context, d dataset, buf []byte) error {
	conc := 64
	if d.Size >= 32<<20 {
		conc = 4
	}
	sem := make(chan struct{}, conc)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	fail := func(err error) {
		mu.Lock()
		if first == nil {
			first = err
		}
		mu.Unlock()
	}
	body := func(i int, n int64) *bytes.Reader {
		off := (int64(i) * 4099) % (int64(len(buf)) - n + 1)
		return bytes.NewReader(buf[off : off+n])
	}
	for i, o := range d.objects() {
		key := o.key
		if o.size <= int64(len(buf)) {
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				_, err := e.sc.PutObject(ctx, &s3.PutObjectInput{Bucket: &d.Name, Key: &key, Body: body(i, o.size), ContentLength: aws.Int64(o.size)}, unsigned)
				if err != nil {
					fail(err)
				}
			}()
			continue
		}
		cu, err := e.sc.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &d.Name, Key: &key})
		if err != nil {
			return err
		}
		const ps = 64 << 20
		n := int((d.Size + ps - 1) / ps)
		parts := make([]types.CompletedPart, n)
		for p := range n {
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				l := min(int64(ps), d.Size-int64(p)*ps)
				num := int32(p + 1)
				up, err := e.sc.UploadPart(ctx, &s3.UploadPartInput{Bucket: &d.Name, Key: &key, UploadId: cu.UploadId, PartNumber: &num,
					Body: body(p, l), ContentLength: &l}, unsigned)
				if err != nil {
					fail(err)
					return
				}
				parts[p] = types.CompletedPart{ETag: up.ETag, PartNumber: &num}
			}()
		}
		wg.Wait()
		if first != nil {
			return first
		}
		if _, err := e.sc.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: &d.Name, Key: &key, UploadId: cu.UploadId,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}}); err != nil {
			return err
		}
	}
	wg.Wait()
	return first
}

// localDir is where a local-source dataset's files are.
func (e *env) localDir(d dataset) string { return filepath.Join(e.c.work, "local", d.Name) }

// count lists bucket on the destination: every tool's copy is checked the
// same way.
func (e *env) count(ctx context.Context, bucket string) (n int, bytes int64, err error) {
	pg := s3.NewListObjectsV2Paginator(e.dc, &s3.ListObjectsV2Input{Bucket: &bucket})
	for pg.HasMorePages() {
		p, err := pg.NextPage(ctx)
		if err != nil {
			return 0, 0, err
		}
		for _, o := range p.Contents {
			n++
			bytes += aws.ToInt64(o.Size)
		}
	}
	return n, bytes, nil
}
