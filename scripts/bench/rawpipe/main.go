// Command rawpipe is the benchmark's physical-limit baseline: the smallest
// GET->PUT loop between two S3 buckets with the SDK ferry uses and the same
// concurrency, and nothing else: no tracking, no verification, no retries
// beyond the SDK's own. Objects at or above -threshold go multipart with
// -part-size parts, -parts parts in flight (ferry's defaults: 100 MiB,
// 50 MiB, 4), each part streamed from a ranged GET.
//
//	rawpipe -src https://127.0.0.1:P1 -dst https://127.0.0.1:P2 -ca cert.pem \
//	    -access A -secret S -src-bucket b1 -dst-bucket b2 -workers 16
package main

import (
	"context"
	"crypto/x509"
	"flag"
	"fmt"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/ferry-migrate/ferry/internal/gcpolicy"
	fs3 "github.com/ferry-migrate/ferry/storage/s3"
)

func main() {
	var (
		src, dst, ca, access, secret, srcBucket, dstBucket string
		workers, parts                                     int
		partSize, threshold                                int64
	)
	flag.StringVar(&src, "src", "", "source endpoint")
	flag.StringVar(&dst, "dst", "", "destination endpoint")
	flag.StringVar(&ca, "ca", "", "CA bundle (PEM) for both endpoints")
	flag.StringVar(&access, "access", "", "access key (both sides)")
	flag.StringVar(&secret, "secret", "", "secret key (both sides)")
	flag.StringVar(&srcBucket, "src-bucket", "", "source bucket")
	flag.StringVar(&dstBucket, "dst-bucket", "", "destination bucket")
	flag.IntVar(&workers, "workers", 16, "objects copied at once")
	flag.IntVar(&parts, "parts", 4, "parts in flight per multipart object")
	flag.Int64Var(&partSize, "part-size", 50<<20, "multipart part size")
	flag.Int64Var(&threshold, "threshold", 100<<20, "multipart threshold")
	flag.Parse()
	gcpolicy.Apply(os.Getenv) // as ferry runs
	pem, err := os.ReadFile(ca)
	if err != nil && ca != "" {
		fail(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	sc, dc := client(src, access, secret, pool, workers*parts), client(dst, access, secret, pool, workers*parts)
	ctx := context.Background()
	p := &pipe{src: sc, dst: dc, sb: srcBucket, db: dstBucket, parts: parts, partSize: partSize, threshold: threshold}

	start := time.Now()
	jobs := make(chan types.Object, workers*2)
	var wg sync.WaitGroup
	var firstErr atomic.Value
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for o := range jobs {
				if err := p.copy(ctx, aws.ToString(o.Key), aws.ToInt64(o.Size)); err != nil {
					firstErr.CompareAndSwap(nil, err)
				}
			}
		}()
	}
	pg := s3.NewListObjectsV2Paginator(sc, &s3.ListObjectsV2Input{Bucket: &srcBucket})
	for pg.HasMorePages() {
		page, err := pg.NextPage(ctx)
		if err != nil {
			fail(err)
		}
		for _, o := range page.Contents {
			jobs <- o
		}
	}
	close(jobs)
	wg.Wait()
	if e, _ := firstErr.Load().(error); e != nil {
		fail(e)
	}
	fmt.Printf("{\"objects\":%d,\"bytes\":%d,\"seconds\":%.3f}\n", p.objects.Load(), p.bytes.Load(), time.Since(start).Seconds())
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "rawpipe:", err)
	os.Exit(1)
}

func client(endpoint, access, secret string, pool *x509.CertPool, conns int) *s3.Client {
	hc := awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		tr.TLSClientConfig.RootCAs = pool
		tr.MaxIdleConnsPerHost = max(conns, 16)
		tr.WriteBufferSize, tr.ReadBufferSize = fs3.TransportBuffer, fs3.TransportBuffer // as ferry's backend
	})
	return s3.New(s3.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(endpoint), UsePathStyle: true,
		Credentials:                credentials.NewStaticCredentialsProvider(access, secret, ""),
		HTTPClient:                 hc,
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
}

// unsigned streams a non-seekable body over HTTPS (as ferry does).
func unsigned(o *s3.Options) {
	o.APIOptions = append(o.APIOptions, v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware)
}

type pipe struct {
	src, dst            *s3.Client
	sb, db              string
	parts               int
	partSize, threshold int64
	objects, bytes      atomic.Int64
}

func (p *pipe) copy(ctx context.Context, key string, size int64) error {
	if size >= p.threshold {
		return p.multipart(ctx, key, size)
	}
	g, err := p.src.GetObject(ctx, &s3.GetObjectInput{Bucket: &p.sb, Key: &key})
	if err != nil {
		return fmt.Errorf("get %s: %w", key, err)
	}
	defer g.Body.Close()
	_, err = p.dst.PutObject(ctx, &s3.PutObjectInput{Bucket: &p.db, Key: &key, Body: g.Body, ContentLength: g.ContentLength}, unsigned)
	if err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	p.objects.Add(1)
	p.bytes.Add(size)
	return nil
}

func (p *pipe) multipart(ctx context.Context, key string, size int64) error {
	cu, err := p.dst.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &p.db, Key: &key})
	if err != nil {
		return err
	}
	n := int((size + p.partSize - 1) / p.partSize)
	done := make([]types.CompletedPart, n)
	sem := make(chan struct{}, p.parts)
	var wg sync.WaitGroup
	var firstErr atomic.Value
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			off := int64(i) * p.partSize
			l := min(p.partSize, size-off)
			rng := fmt.Sprintf("bytes=%d-%d", off, off+l-1)
			g, err := p.src.GetObject(ctx, &s3.GetObjectInput{Bucket: &p.sb, Key: &key, Range: &rng})
			if err != nil {
				firstErr.CompareAndSwap(nil, err)
				return
			}
			defer g.Body.Close()
			num := int32(i + 1)
			up, err := p.dst.UploadPart(ctx, &s3.UploadPartInput{Bucket: &p.db, Key: &key, UploadId: cu.UploadId,
				PartNumber: &num, Body: g.Body, ContentLength: &l}, unsigned)
			if err != nil {
				firstErr.CompareAndSwap(nil, err)
				return
			}
			done[i] = types.CompletedPart{ETag: up.ETag, PartNumber: &num}
		}()
	}
	wg.Wait()
	if e, _ := firstErr.Load().(error); e != nil {
		return fmt.Errorf("multipart %s: %w", key, e)
	}
	_, err = p.dst.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: &p.db, Key: &key, UploadId: cu.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: done}})
	if err != nil {
		return err
	}
	p.objects.Add(1)
	p.bytes.Add(size)
	return nil
}
