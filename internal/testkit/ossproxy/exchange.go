package ossproxy

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/ferry-migrate/ferry/storage/crc"
)

// HeaderCRC64 is the header in which OSS reports an object's CRC-64/ECMA
// as a decimal uint64.
const HeaderCRC64 = "x-oss-hash-crc64ecma"

// Request bodies the proxy must read whole (CompleteMultipartUpload's part
// list) are small XML documents; anything larger is not one.
const maxXMLBody = 16 << 20

// exchange is what the proxy learns from a request that it needs again when
// the response comes back.
type exchange struct {
	req     reqInfo
	body    *hashingBody // uploads with a body; nil otherwise
	bodyLen int64        // the request's Content-Length, -1 if unknown
	// CompleteMultipartUpload: the request body and its part numbers in order.
	completeBody []byte
	parts        []int
	partsOK      bool
	// cue, when set, is written upstream once the request was served,
	// before the answer goes back (see Cue).
	cue *Cue
}

// prepare wraps or reads r's body as the response handling will need it.
func (p *Proxy) prepare(r *http.Request, req reqInfo, flipAt int64) (*exchange, error) {
	ex := &exchange{req: req, bodyLen: r.ContentLength}
	hasBody := r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0
	if hasBody && (flipAt >= 0 || req.op == opPutObject || req.op == opUploadPart) {
		ex.body = newHashingBody(r.Body, flipAt)
		r.Body = ex.body
	}
	if req.op == opComplete && hasBody {
		b, err := io.ReadAll(io.LimitReader(r.Body, maxXMLBody))
		if err != nil {
			return nil, fmt.Errorf("read CompleteMultipartUpload body: %w", err)
		}
		r.Body = io.NopCloser(bytes.NewReader(b))
		r.ContentLength = int64(len(b))
		ex.completeBody = b
		var doc struct {
			Parts []struct {
				PartNumber int `xml:"PartNumber"`
			} `xml:"Part"`
		}
		// A list the proxy cannot read just means no CRC; versitygw judges
		// the request.
		if xml.Unmarshal(b, &doc) == nil {
			ex.partsOK = true
			for _, pt := range doc.Parts {
				ex.parts = append(ex.parts, pt.PartNumber)
			}
		}
	}
	return ex, nil
}

// modifyResponse makes versitygw's answer look like OSS's.
func (p *Proxy) modifyResponse(resp *http.Response, ex *exchange, cutAt int64) error {
	if cutAt >= 0 && (resp.Request.Method == http.MethodHead ||
		(resp.ContentLength >= 0 && resp.ContentLength <= cutAt)) {
		// The body will not reach the cut: cut before answering at all.
		_ = resp.Body.Close()
		panic(http.ErrAbortHandler)
	}
	if ex.cue != nil {
		if err := p.fire(resp.Request.Context(), ex.req.bucket, *ex.cue, ex.req.op.writes()); err != nil {
			_ = resp.Body.Close()
			return err
		}
	}
	if v := resp.Header.Get("ETag"); v != "" {
		resp.Header.Set("ETag", strings.ToUpper(v))
	}
	ok := resp.StatusCode/100 == 2
	var body []byte
	ct := resp.Header.Get("Content-Type")
	if ex.req.op != opReadObject && resp.Request.Method != http.MethodHead &&
		(ct == "" || strings.Contains(ct, "xml")) {
		b, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if err != nil {
			return fmt.Errorf("read upstream response: %w", err)
		}
		body = upperETags(b)
		resp.Body = io.NopCloser(bytes.NewReader(body))
		resp.ContentLength = int64(len(body))
		resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
		// S3 may answer CompleteMultipartUpload 200 with an <Error> body.
		if ok && ex.req.op == opComplete && bytes.Contains(body, []byte("<Error>")) {
			ok = false
		}
	}
	if ok {
		p.recordCRC(resp.Header, ex, body)
	}
	return nil
}

// recordCRC updates what the proxy knows after a successful request and
// sets x-oss-hash-crc64ecma where OSS would.
func (p *Proxy) recordCRC(h http.Header, ex *exchange, body []byte) {
	obj := objectKey{ex.req.bucket, ex.req.key}
	q := ex.req.query
	switch ex.req.op {
	case opPutObject, opUploadPart:
		var v uint64 // the CRC of an empty body is 0
		var n int64
		if ex.body != nil {
			var complete bool
			if v, n, complete = ex.body.sum(ex.bodyLen); !complete {
				if ex.req.op == opPutObject {
					p.crcs.forgetObject(obj)
				}
				return
			}
		}
		if ex.req.op == opPutObject {
			p.crcs.setObject(obj, v)
		} else {
			num, err := strconv.Atoi(q.Get("partNumber"))
			if err != nil {
				return
			}
			p.crcs.setPart(partKey{q.Get("uploadId"), num}, partCRC{crc: v, size: n})
		}
		h.Set(HeaderCRC64, crc.FormatOSS(v))
	case opCopyObject:
		// OSS gives a copy the source's CRC when it has one; the proxy
		// knows it only for sources written through it.
		if v, known := p.crcs.object(ex.req.copySrc); known && ex.req.copyOK {
			p.crcs.setObject(obj, v)
			h.Set(HeaderCRC64, crc.FormatOSS(v))
		} else {
			p.crcs.forgetObject(obj)
		}
	case opUploadPartCopy:
		// A copied part has no CRC, so neither has the completed object
		// (see combine): OSS may omit it for multipart copies.
		if num, err := strconv.Atoi(q.Get("partNumber")); err == nil {
			p.crcs.forgetPart(partKey{q.Get("uploadId"), num})
		}
	case opComplete:
		v, all := p.crcs.combine(q.Get("uploadId"), ex.parts)
		if all && ex.partsOK {
			p.crcs.setObject(obj, v)
			h.Set(HeaderCRC64, crc.FormatOSS(v))
		} else {
			p.crcs.forgetObject(obj)
		}
		p.crcs.forgetUpload(q.Get("uploadId"))
	case opAbort:
		p.crcs.forgetUpload(q.Get("uploadId"))
	case opReadObject:
		// Whole-object CRC even for a ranged GET, as OSS does.
		if v, known := p.crcs.object(obj); known {
			h.Set(HeaderCRC64, crc.FormatOSS(v))
		}
	case opDeleteObject:
		p.crcs.forgetObject(obj)
	case opDeleteObjects:
		var doc struct {
			Deleted []struct {
				Key string `xml:"Key"`
			} `xml:"Deleted"`
		}
		if xml.Unmarshal(body, &doc) == nil {
			for _, d := range doc.Deleted {
				p.crcs.forgetObject(objectKey{ex.req.bucket, d.Key})
			}
		}
	}
}
