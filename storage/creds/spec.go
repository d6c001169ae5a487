// Package creds builds the credentials of one side of a job (DESIGN §9):
// a provider, not strings. Every provider it returns is an
// aws.CredentialsCache around one of the kinds below, so the S3 client
// asks again before the credentials expire:
//
//	static           the job's AccessKey/SecretKey[/SecurityToken]; replaceable
//	                 while in use (Static.Set), for rotation without resubmitting
//	env              the environment: OSS_* for OSS, then the AWS default chain
//	command:<argv>   an external program printing JSON credentials, re-run
//	                 before they expire
//	file:<path>      a JSON credentials file, re-read when it changes
//	ecs-ram-role[:R] Alibaba ECS instance RAM role (metadata service)
//	rrsa             Alibaba ACK RRSA (OIDC, ALIBABA_CLOUD_ROLE_ARN, ...)
//	assume-role:ARN  Alibaba STS AssumeRole with the job's static keys
//
// It imports no conf, master or worker: conf parses the key into a Spec,
// storage/backends turns a Spec into a provider.
package creds

import (
	"fmt"
	"strings"
)

// Kind names a credentials provider as the job key spells it.
type Kind string

const (
	KindStatic     Kind = "static"
	KindEnv        Kind = "env"
	KindCommand    Kind = "command"
	KindFile       Kind = "file"
	KindECSRAMRole Kind = "ecs-ram-role"
	KindRRSA       Kind = "rrsa"
	KindAssumeRole Kind = "assume-role"
)

// Kinds lists every kind, for error messages and docs.
var Kinds = []Kind{KindStatic, KindEnv, KindCommand, KindFile, KindECSRAMRole, KindRRSA, KindAssumeRole}

// Spec is a parsed srcCredentials/destCredentials value. The zero value
// means "not given": static keys when the job has them, else env.
type Spec struct {
	Kind Kind
	// Arg: the command line (command), the path (file), the role name
	// (ecs-ram-role, optional), the role ARN (assume-role).
	Arg string
}

// Parse reads "kind[:arg]". It names what is wrong, never echoing an
// argument (a command line may carry something private).
func Parse(v string) (Spec, error) {
	k, arg, hasArg := strings.Cut(strings.TrimSpace(v), ":")
	s := Spec{Kind: Kind(k), Arg: strings.TrimSpace(arg)}
	switch s.Kind {
	case KindStatic, KindEnv, KindRRSA:
		if hasArg {
			return Spec{}, fmt.Errorf("%s takes no argument", k)
		}
	case KindCommand:
		if s.Arg == "" {
			return Spec{}, fmt.Errorf("command needs a command line: command:/path/to/program args")
		}
		if _, err := SplitCommand(s.Arg); err != nil {
			return Spec{}, err
		}
	case KindFile:
		if s.Arg == "" {
			return Spec{}, fmt.Errorf("file needs a path: file:/path/to/credentials.json")
		}
	case KindECSRAMRole:
	case KindAssumeRole:
		if !strings.HasPrefix(s.Arg, "acs:ram::") {
			return Spec{}, fmt.Errorf("assume-role needs a RAM role ARN: assume-role:acs:ram::<account>:role/<name>")
		}
	default:
		names := make([]string, len(Kinds))
		for i, k := range Kinds {
			names[i] = string(k)
		}
		return Spec{}, fmt.Errorf("%q is not a credentials kind: use one of %s", k, strings.Join(names, ", "))
	}
	return s, nil
}

// String is the spec as a job key spells it.
func (s Spec) String() string {
	if s.Arg == "" {
		return string(s.Kind)
	}
	return string(s.Kind) + ":" + s.Arg
}

// NeedsKeys reports whether the kind uses the job's static keys
// (static, and assume-role as its source identity); the other kinds
// refuse them, so that a config never says two things.
func (s Spec) NeedsKeys() bool { return s.Kind == KindStatic || s.Kind == KindAssumeRole }

// SplitCommand splits a command line into argv: fields separated by
// spaces, with '…' and "…" quoting (no shell, no expansion).
func SplitCommand(line string) ([]string, error) {
	var (
		argv  []string
		cur   strings.Builder
		quote rune
		in    bool
	)
	for _, c := range line {
		switch {
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(c)
		case c == '\'' || c == '"':
			quote, in = c, true
		case c == ' ' || c == '\t':
			if in {
				argv = append(argv, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteRune(c)
			in = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("command line has an unclosed %c quote", quote)
	}
	if in {
		argv = append(argv, cur.String())
	}
	if len(argv) == 0 {
		return nil, fmt.Errorf("command line is empty")
	}
	return argv, nil
}
