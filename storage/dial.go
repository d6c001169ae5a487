package storage

import (
	"context"
	"net"
	"strings"
	"time"
)

// DialLoopbackNames dials 127.0.0.1 for "localhost" and any name under
// ".localhost", as RFC 6761 §6.3 asks of resolvers (browsers do the same).
// Without it, virtual-hosted addressing of a local server
// (bucket.localhost) depends on the system resolver, which usually fails.
// Backends that dial by name use it as their transport's DialContext.
func DialLoopbackNames(ctx context.Context, network, addr string) (net.Conn, error) {
	if host, port, err := net.SplitHostPort(addr); err == nil {
		if h := strings.ToLower(strings.TrimSuffix(host, ".")); h == "localhost" || strings.HasSuffix(h, ".localhost") {
			addr = net.JoinHostPort("127.0.0.1", port)
		}
	}
	d := net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	return d.DialContext(ctx, network, addr)
}
