package s3

import (
	"bytes"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	smithytime "github.com/aws/smithy-go/time"
)

// decodeListPage decodes a ListObjectsV2 success body into the output the
// SDK's own deserializer would build (listpage_test.go compares the two),
// without encoding/xml: at 10^7 objects the SDK's generic token-by-token
// decoding was the largest single cost of the master (docs/benchmarks.md,
// Scale, Round 3).
//
// Like the SDK, element names match case-insensitively and without their
// namespace prefix, unknown elements are skipped and an empty element is an
// empty string. Unlike it, a body without a ListBucketResult root (empty, or
// some other document) is an error: the SDK would return an empty page,
// which would end a listing early without a word.
func decodeListPage(body []byte) (*awss3.ListObjectsV2Output, error) {
	d := listDecoder{scanner: scanner{b: body}}
	d.hint = bytes.Count(body, []byte("<Contents>"))
	out := &awss3.ListObjectsV2Output{Contents: make([]types.Object, 0, d.hint)}
	root, err := d.root()
	if err != nil {
		return nil, err
	}
	if !root.empty {
		if err := d.page(out, root.name); err != nil {
			return nil, err
		}
	}
	if len(out.Contents) == 0 {
		out.Contents = nil // as the SDK leaves it
	}
	return out, nil
}

// objVals holds one object's pointed-to values, allocated in slabs so an
// object costs one allocation for them instead of four.
type objVals struct {
	key, etag string
	size      int64
	mod       time.Time
}

type listDecoder struct {
	scanner
	hint int
	vals []objVals
}

func (d *listDecoder) newVals() *objVals {
	if len(d.vals) == cap(d.vals) {
		d.vals = make([]objVals, 0, max(d.hint, 16))
	}
	d.vals = d.vals[:len(d.vals)+1]
	return &d.vals[len(d.vals)-1]
}

// root finds the document element, past the prolog, comments and doctype.
func (d *listDecoder) root() (tag, error) {
	if len(bytes.TrimSpace(d.b)) == 0 {
		return tag{}, fmt.Errorf("list page: empty body")
	}
	t, err := d.next()
	if err != nil {
		return t, err
	}
	if t.kind == tagEnd || !nameIs(t.local, "ListBucketResult") {
		return t, d.fail("document element is <%s>, want <ListBucketResult>", t.name)
	}
	return t, nil
}

func (d *listDecoder) page(out *awss3.ListObjectsV2Output, root []byte) error {
	for {
		t, err := d.child(root)
		if err != nil || t.kind == tagEnd {
			return err
		}
		switch n := t.local; {
		case nameIs(n, "Contents"):
			out.Contents = append(out.Contents, types.Object{})
			err = d.object(&out.Contents[len(out.Contents)-1], t)
		case nameIs(n, "CommonPrefixes"):
			var p types.CommonPrefix
			err = d.commonPrefix(&p, t)
			out.CommonPrefixes = append(out.CommonPrefixes, p)
		case nameIs(n, "IsTruncated"):
			out.IsTruncated, err = d.boolField(t)
		case nameIs(n, "NextContinuationToken"):
			out.NextContinuationToken, err = d.stringField(t)
		case nameIs(n, "ContinuationToken"):
			out.ContinuationToken, err = d.stringField(t)
		case nameIs(n, "StartAfter"):
			out.StartAfter, err = d.stringField(t)
		case nameIs(n, "Prefix"):
			out.Prefix, err = d.stringField(t)
		case nameIs(n, "Delimiter"):
			out.Delimiter, err = d.stringField(t)
		case nameIs(n, "Name"):
			out.Name, err = d.stringField(t)
		case nameIs(n, "EncodingType"):
			var v []byte
			if v, err = d.value(t); err == nil {
				out.EncodingType = types.EncodingType(v)
			}
		case nameIs(n, "KeyCount"):
			out.KeyCount, err = d.int32Field(t)
		case nameIs(n, "MaxKeys"):
			out.MaxKeys, err = d.int32Field(t)
		default:
			err = d.skip(t)
		}
		if err != nil {
			return err
		}
	}
}

func (d *listDecoder) object(o *types.Object, open tag) error {
	if open.empty {
		return nil
	}
	vals := d.newVals()
	for {
		t, err := d.child(open.name)
		if err != nil || t.kind == tagEnd {
			return err
		}
		var v []byte
		switch n := t.local; {
		case nameIs(n, "Key"):
			if v, err = d.value(t); err == nil {
				vals.key, o.Key = string(v), &vals.key
			}
		case nameIs(n, "ETag"):
			if v, err = d.value(t); err == nil {
				vals.etag, o.ETag = string(v), &vals.etag
			}
		case nameIs(n, "Size"):
			if v, err = d.value(t); err == nil {
				vals.size, err = parseInt(v)
				o.Size = &vals.size
			}
		case nameIs(n, "LastModified"):
			if v, err = d.value(t); err == nil {
				vals.mod, err = parseTime(v)
				o.LastModified = &vals.mod
			}
		case nameIs(n, "StorageClass"):
			if v, err = d.value(t); err == nil {
				o.StorageClass = storageClass(v)
			}
		case nameIs(n, "ChecksumAlgorithm"):
			if v, err = d.value(t); err == nil {
				o.ChecksumAlgorithm = append(o.ChecksumAlgorithm, types.ChecksumAlgorithm(v))
			}
		case nameIs(n, "ChecksumType"):
			if v, err = d.value(t); err == nil {
				o.ChecksumType = types.ChecksumType(v)
			}
		case nameIs(n, "Owner"):
			o.Owner = &types.Owner{}
			err = d.owner(o.Owner, t)
		case nameIs(n, "RestoreStatus"):
			o.RestoreStatus = &types.RestoreStatus{}
			err = d.restoreStatus(o.RestoreStatus, t)
		default:
			err = d.skip(t)
		}
		if err != nil {
			return fmt.Errorf("<%s>: %w", t.name, err)
		}
	}
}

func (d *listDecoder) commonPrefix(p *types.CommonPrefix, open tag) error {
	return d.fields(open, func(t tag) (err error) {
		if !nameIs(t.local, "Prefix") {
			return d.skip(t)
		}
		p.Prefix, err = d.stringField(t)
		return err
	})
}

func (d *listDecoder) owner(o *types.Owner, open tag) error {
	return d.fields(open, func(t tag) (err error) {
		switch {
		case nameIs(t.local, "ID"):
			o.ID, err = d.stringField(t)
		case nameIs(t.local, "DisplayName"):
			o.DisplayName, err = d.stringField(t)
		default:
			err = d.skip(t)
		}
		return err
	})
}

func (d *listDecoder) restoreStatus(r *types.RestoreStatus, open tag) error {
	return d.fields(open, func(t tag) (err error) {
		switch {
		case nameIs(t.local, "IsRestoreInProgress"):
			r.IsRestoreInProgress, err = d.boolField(t)
		case nameIs(t.local, "RestoreExpiryDate"):
			var v []byte
			if v, err = d.value(t); err == nil {
				var tm time.Time
				tm, err = parseTime(v)
				r.RestoreExpiryDate = &tm
			}
		default:
			err = d.skip(t)
		}
		return err
	})
}

// fields calls fn for each child of open, a rarely seen container.
func (d *listDecoder) fields(open tag, fn func(tag) error) error {
	if open.empty {
		return nil
	}
	for {
		t, err := d.child(open.name)
		if err != nil || t.kind == tagEnd {
			return err
		}
		if err := fn(t); err != nil {
			return err
		}
	}
}

func (d *listDecoder) stringField(t tag) (*string, error) {
	v, err := d.value(t)
	if err != nil {
		return nil, err
	}
	return aws.String(string(v)), nil
}

func (d *listDecoder) boolField(t tag) (*bool, error) {
	v, err := d.value(t)
	if err != nil {
		return nil, err
	}
	b, err := strconv.ParseBool(string(v))
	if err != nil {
		return nil, fmt.Errorf("<%s> is %q, not a boolean", t.name, v)
	}
	return &b, nil
}

func (d *listDecoder) int32Field(t tag) (*int32, error) {
	v, err := d.value(t)
	if err != nil {
		return nil, err
	}
	n, err := parseInt(v)
	if err != nil {
		return nil, err
	}
	// Truncated like the SDK's deserializer does.
	return aws.Int32(int32(n)), nil
}

// parseInt is strconv.ParseInt with a fast path for plain digits, the only
// form servers send.
func parseInt(v []byte) (int64, error) {
	if len(v) == 0 || len(v) > 18 {
		return strconv.ParseInt(string(v), 10, 64)
	}
	var n int64
	for _, c := range v {
		if c < '0' || c > '9' {
			return strconv.ParseInt(string(v), 10, 64)
		}
		n = n*10 + int64(c-'0')
	}
	return n, nil
}

// parseTime is smithytime.ParseDateTime with a fast path for the form every
// server sends, 2006-01-02T15:04:05[.fraction]Z; anything else, or a field
// out of range, goes to the SDK's parser, which accepts or rejects it.
func parseTime(v []byte) (time.Time, error) {
	if t, ok := fastTime(v); ok {
		return t, nil
	}
	t, err := smithytime.ParseDateTime(string(v))
	if err != nil {
		return time.Time{}, fmt.Errorf("timestamp %q: %w", v, err)
	}
	return t, nil
}

func fastTime(v []byte) (time.Time, bool) {
	if len(v) < 20 || v[len(v)-1] != 'Z' || v[4] != '-' || v[7] != '-' || v[10] != 'T' || v[13] != ':' || v[16] != ':' {
		return time.Time{}, false
	}
	num := func(i, n int) int {
		x := 0
		for _, c := range v[i : i+n] {
			if c < '0' || c > '9' {
				return -1
			}
			x = x*10 + int(c-'0')
		}
		return x
	}
	year, month, day := num(0, 4), num(5, 2), num(8, 2)
	hour, minute, sec := num(11, 2), num(14, 2), num(17, 2)
	nsec := 0
	if frac := v[19 : len(v)-1]; len(frac) > 0 {
		if frac[0] != '.' || len(frac) < 2 || len(frac) > 10 {
			return time.Time{}, false
		}
		if nsec = num(20, len(frac)-1); nsec < 0 {
			return time.Time{}, false
		}
		for range 10 - len(frac) {
			nsec *= 10
		}
	}
	if year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || sec < 0 || sec > 59 {
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	if t.Day() != day { // 31 April, 29 February of a common year
		return time.Time{}, false
	}
	return t, true
}

// storageClass avoids a string per object for the classes a bucket is
// nearly all made of.
func storageClass(v []byte) types.ObjectStorageClass {
	for _, c := range []types.ObjectStorageClass{types.ObjectStorageClassStandard,
		types.ObjectStorageClassStandardIa, types.ObjectStorageClassGlacier, "Standard", "IA", "Archive"} {
		if string(v) == string(c) {
			return c
		}
	}
	return types.ObjectStorageClass(v)
}
