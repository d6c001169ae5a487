package httplist

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/storage"
)

func TestParseLine(t *testing.T) {
	cases := []struct {
		name, line string
		p, r       int
		key, url   string
	}{
		{"two columns", "http://h/a/ b/c.jpg", 1, 2, "b/c.jpg", "http://h/a/b/c.jpg"},
		{"no slash between", "http://h/a b/c.jpg", 1, 2, "b/c.jpg", "http://h/a/b/c.jpg"},
		{"slash on both sides", "http://h/a/ /b/c.jpg", 1, 2, "b/c.jpg", "http://h/a/b/c.jpg"},
		{"host only", "https://h:8080 x.txt", 1, 2, "x.txt", "https://h:8080/x.txt"},
		{"tabs and extra columns", "  extra\thttp://h/\t\tk 123 more", 2, 3, "k", "http://h/k"},
		{"columns swapped", "k http://h/", 2, 1, "k", "http://h/k"},
		{"space written %20", "http://h/ a%20b.jpg", 1, 2, "a b.jpg", "http://h/a%20b.jpg"},
		{"literal %20 written %2520", "http://h/ a%2520b.jpg", 1, 2, "a%20b.jpg", "http://h/a%2520b.jpg"},
		{"lone percent", "http://h/ 100%.txt", 1, 2, "100%.txt", "http://h/100%25.txt"},
		{"plus stays", "http://h/ a+b", 1, 2, "a+b", "http://h/a+b"},
		{"hash is a name character", "http://h/ tag#1", 1, 2, "tag#1", "http://h/tag%231"},
		{"query kept out of the key", "http://h/ a.jpg?Expires=1&Signature=s", 1, 2, "a.jpg", "http://h/a.jpg?Expires=1&Signature=s"},
		{"unicode", "http://h/ 日本/ключ.txt", 1, 2, "日本/ключ.txt", "http://h/%E6%97%A5%E6%9C%AC/%D0%BA%D0%BB%D1%8E%D1%87.txt"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e, err := parseLine(tc.line, tc.p, tc.r)
			require.NoError(t, err)
			assert.Equal(t, tc.key, e.key)
			assert.Equal(t, tc.url, e.url)
		})
	}
}

func TestParseLineSkipsAndRefuses(t *testing.T) {
	for _, l := range []string{"", "   \t", "# comment http://h/ k", "  #indented comment"} {
		_, err := parseLine(l, 1, 2)
		assert.ErrorIs(t, err, errSkipLine, "%q", l)
	}
	bad := []struct{ line, msg string }{
		{"http://h/", "1 column(s), need at least 2"},
		{"ftp://h/ k", "scheme"},
		{"http:///x k", "no host"},
		{"http://user:pw@h/ k", "credentials"},
		{"http://h/?a=b k", "query"},
		{"http://h/ /", "empty"},
		{"http://h/ a%00b", "NUL"},
		{"http://h/ %ff", "UTF-8"},
	}
	for _, tc := range bad {
		_, err := parseLine(tc.line, 1, 2)
		require.Error(t, err, tc.line)
		assert.Contains(t, err.Error(), tc.msg, tc.line)
		assert.NotContains(t, err.Error(), "pw", "credentials never echoed")
	}
	_, err := parseLine("http://h/ "+string(make([]byte, 0))+longName(storage.MaxKeyLen+1), 1, 2)
	assert.ErrorIs(t, err, storage.ErrInvalidKey)
}

func longName(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = 'a'
	}
	return string(b)
}

func TestRedact(t *testing.T) {
	assert.Equal(t, "https://b.h/k", redact("https://b.h/k?OSSAccessKeyId=x&Signature=secret"))
	assert.Equal(t, "https://b.h/k", redact("https://b.h/k"))
}
