package s3

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"

	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// listPage is ListObjectsV2 with the success body decoded by decodeListPage.
// Signing, retries, error responses and their typed errors stay the SDK's.
func (b *Backend) listPage(ctx context.Context, in *awss3.ListObjectsV2Input) (*awss3.ListObjectsV2Output, error) {
	return b.client.ListObjectsV2(ctx, in, withListDecoder)
}

// withListDecoder puts listDeserializer in place of the operation's
// deserializer, under the same ID so the middleware placed around it stays
// where it was.
func withListDecoder(o *awss3.Options) {
	o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
		m := &listDeserializer{}
		sdk, err := stack.Deserialize.Swap(m.ID(), m)
		if err != nil {
			return fmt.Errorf("s3: replacing the ListObjectsV2 deserializer: %w", err)
		}
		m.sdk = sdk
		return nil
	})
}

type listDeserializer struct {
	sdk middleware.DeserializeMiddleware
}

func (*listDeserializer) ID() string { return "OperationDeserializer" }

func (m *listDeserializer) HandleDeserialize(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (
	out middleware.DeserializeOutput, md middleware.Metadata, err error,
) {
	out, md, err = next.HandleDeserialize(ctx, in)
	resp, ok := out.RawResponse.(*smithyhttp.Response)
	if err != nil || !ok || resp.StatusCode < 200 || resp.StatusCode >= 300 {
		// Failures are the SDK's to turn into typed errors: hand it what
		// the transport answered.
		return m.sdk.HandleDeserialize(ctx, in, answered{out, md, err})
	}
	defer func() { smithyhttp.CloseResponseBody(ctx, resp, false, err) }()
	body, err := readBody(resp)
	if err != nil {
		return out, md, &smithy.DeserializationError{Err: fmt.Errorf("failed to read response body, %w", err)}
	}
	page, err := decodeListPage(body)
	if err != nil {
		return out, md, &smithy.DeserializationError{Err: fmt.Errorf("failed to decode response body, %w", err),
			Snapshot: body[:min(len(body), 1024)]}
	}
	if v := resp.Header.Values("x-amz-request-charged"); len(v) != 0 {
		page.RequestCharged = types.RequestCharged(strings.TrimSpace(v[0]))
	}
	out.Result = page
	return out, md, nil
}

// answered replays a transport result to the SDK's deserializer.
type answered struct {
	out middleware.DeserializeOutput
	md  middleware.Metadata
	err error
}

func (a answered) HandleDeserialize(context.Context, middleware.DeserializeInput) (middleware.DeserializeOutput, middleware.Metadata, error) {
	return a.out, a.md, a.err
}

// readBody reads the whole body in one buffer sized from Content-Length
// when the server sent it.
func readBody(resp *smithyhttp.Response) ([]byte, error) {
	var buf bytes.Buffer
	if n := resp.ContentLength; n > 0 && n < 64<<20 {
		buf.Grow(int(n) + bytes.MinRead)
	}
	_, err := io.Copy(&buf, resp.Body)
	return buf.Bytes(), err
}
