package snapshot

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseTemplateErrors(t *testing.T) {
	for _, tc := range []struct {
		in, want string
	}{
		{"backups/", "every run would write the same prefix"},
		{"backups/{time:2006-01-02/", "is not closed"},
		{"backups/{foo}/", "unknown placeholder {foo}"},
		{"backups/{time:}/", "empty layout"},
		{"backups/{time:2006-01-02}", `must end with "/"`},
		{"backups/{pass}", `must end with "/"`},
		{"backups.ferry-manifest/{pass}/", "ends manifest keys"},
		{"backups/{time:2006/01/02}/", `must not contain "/"`},
		{"backups/{time:backup}/", "no time element"},
		{"backups/{time:2006}{pass}/", "separate placeholders"},
		{"backups/}{pass}/", `without an opening "{"`},
		{"backups/{time:{pass}}/", "must not contain"},
		{"backups/{{pass}}/", "cannot nest"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			_, err := ParseTemplate(tc.in)
			require.ErrorContains(t, err, tc.want)
			require.ErrorContains(t, err, tc.in, "the error names the template")
		})
	}
}

func TestTemplateResolveMatch(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	at := time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC) // 03:30 CEST in Berlin
	for _, tc := range []struct {
		tmpl, parent, want string
		loc                *time.Location
		notMatch           []string
	}{
		{
			tmpl: "backups/{time:2006-01-02T15-04-05}/", parent: "backups/",
			want: "backups/2026-03-29T01-30-00/", loc: time.UTC,
			notMatch: []string{"backups/2026-03-29T01-30-00", "backups/latest/", "backups/2026-03-29T01-30-00/x/", "other/2026-03-29T01-30-00/"},
		},
		{
			tmpl: "backups/{time:2006-01-02T15-04}/", parent: "backups/",
			want: "backups/2026-03-29T03-30/", loc: berlin,
		},
		{
			tmpl: "b/snap-{pass}/", parent: "b/snap-", want: "b/snap-42/", loc: time.UTC,
			notMatch: []string{"b/snap-/", "b/snap-x/", "b/snap-4/2/"},
		},
		{
			// The literal after the time also occurs inside it.
			tmpl: "{time:2006-01-02}-{pass}/", parent: "", want: "2026-03-29-42/", loc: time.UTC,
			notMatch: []string{"2026-03-29/", "2026-13-29-42/"},
		},
	} {
		t.Run(tc.tmpl, func(t *testing.T) {
			tp, err := ParseTemplate(tc.tmpl)
			require.NoError(t, err)
			require.True(t, HasTemplate(tc.tmpl))
			require.Equal(t, tc.tmpl, tp.String())
			require.Equal(t, tc.parent, tp.Parent())
			got := tp.Resolve(at.In(tc.loc), 42)
			require.Equal(t, tc.want, got)
			require.True(t, tp.Match(got), "a resolved prefix matches its template")
			for _, s := range tc.notMatch {
				require.False(t, tp.Match(s), "%q must not match", s)
			}
		})
	}
	require.False(t, HasTemplate("backups/"))
	require.False(t, Template{}.Match(""))
}

func TestManifestKey(t *testing.T) {
	for _, prefix := range []string{"backups/2026-01-02/", "2026/", "a/b/c/"} {
		key := ManifestKey(prefix)
		require.Equal(t, prefix[:len(prefix)-1]+".ferry-manifest", key)
		got, ok := PrefixOfManifest(key)
		require.True(t, ok)
		require.Equal(t, prefix, got)
	}
	for _, key := range []string{"backups/x", ".ferry-manifest", "a/.ferry-manifest", "x.ferry-manifest.bak"} {
		_, ok := PrefixOfManifest(key)
		require.False(t, ok, key)
	}
}
