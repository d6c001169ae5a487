package httplist_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
)

func startOrigin(t *testing.T, h http.HandlerFunc) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
