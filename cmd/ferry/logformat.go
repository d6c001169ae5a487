package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
)

// logFormats are the values --log-format takes. JSON is for log shippers
// (Loki, Elasticsearch, Cloud Logging) that index fields; text is for people.
var logFormats = []string{"text", "json"}

// addLogFormat registers --log-format on a long-running command's flags.
func addLogFormat(fs *flag.FlagSet) *string {
	return fs.String("log-format", "text", "log line format: text (key=value) or json (one object a line, for log collectors)")
}

// newLogger builds the logger of every long-running command from its
// --log-format value, so that the handler setup lives in one place.
// Secrets stay out of logs because the callers never log them, whatever
// the format.
func newLogger(w io.Writer, format string, level slog.Level) (*slog.Logger, error) {
	opts := &slog.HandlerOptions{Level: level}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: use one of %v", format, logFormats)
}
