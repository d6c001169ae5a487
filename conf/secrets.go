package conf

// HasCredentials reports whether the job itself carries credentials (as
// opposed to leaving them to the environment of whoever runs it). Such a
// job may only travel over TLS.
func (j *Job) HasCredentials() bool {
	for _, s := range []string{j.Src.AccessKey, j.Src.SecretKey, j.Src.SessionToken,
		j.Dest.AccessKey, j.Dest.SecretKey, j.Dest.SessionToken} {
		if s != "" {
			return true
		}
	}
	return false
}
