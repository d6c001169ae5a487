package testserver

import (
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNginxServesAndRefusesEmptyReferer(t *testing.T) {
	n := StartNginx(t, NginxOptions{Server: `
		location /protected/ {
			valid_referers server_names www.example.com;
			if ($invalid_referer) { return 403; }
		}`})
	n.Write(t, "open.txt", []byte("hello"))
	n.Write(t, "protected/a.txt", []byte("secret"))

	resp, err := http.Get(n.URL + "/open.txt")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, "hello", string(body))

	resp, err = http.Get(n.URL + "/protected/a.txt")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "an empty Referer is refused")

	req, _ := http.NewRequest(http.MethodGet, n.URL+"/protected/a.txt", nil)
	req.Header.Set("Referer", "https://www.example.com/page")
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}
