package conf

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Kinds of config problems, for errors.Is. Every error Parse returns is a
// join of *Error values, each wrapping one of these.
var (
	ErrSyntax      = errors.New("not a key=value line")
	ErrUnknownKey  = errors.New("unknown key")
	ErrDuplicate   = errors.New("duplicate key")
	ErrRequired    = errors.New("required")
	ErrInvalid     = errors.New("invalid value")
	ErrUnsupported = errors.New("not supported")
)

// Error is one problem in a config file, printed as "FILE:LINE: key:
// problem" so an editor can jump to it. Line is 0 when the key is absent
// (a required key left out); the line part is then omitted.
type Error struct {
	File string
	Line int
	Key  string
	Err  error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":" + strconv.Itoa(e.Line))
	}
	b.WriteString(": ")
	if e.Key != "" {
		b.WriteString(e.Key + ": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// problem carries a free-form message and its kind: the message reads as
// a sentence for the operator, errors.Is still finds the kind, and any
// cause wrapped with %w in the message stays reachable too.
type problem struct {
	kind error
	err  error
}

func (p *problem) Error() string   { return p.err.Error() }
func (p *problem) Unwrap() []error { return []error{p.kind, p.err} }

func newProblem(kind error, format string, args ...any) error {
	return &problem{kind: kind, err: fmt.Errorf(format, args...)}
}
