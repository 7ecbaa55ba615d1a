package interop

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// InCI reports whether the tests run under continuous integration, i.e.
// whether the CI environment variable is set to "true" (or "1"/"yes").
// Under CI a missing peer is a test failure rather than a skip.
func InCI() bool {
	switch strings.ToLower(strings.TrimSpace(os.Getenv("CI"))) {
	case "true", "1", "yes":
		return true
	}
	return false
}

// unavailable stops the test because something it needs is missing: it
// fails under CI (see InCI) and skips otherwise.
func unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if InCI() {
		t.Fatalf("%s", msg)
		return
	}
	t.Skipf("%s (skipping: CI is not set)", msg)
}

// sbinDirs are searched after $PATH, because kamailio lives in /usr/sbin,
// which is not on the PATH of unprivileged users.
var sbinDirs = []string{"/usr/sbin", "/sbin", "/usr/local/sbin", "/usr/local/bin", "/usr/bin"}

// LookPath returns the absolute path of program, searching $PATH and then
// the sbin directories (kamailio is installed in /usr/sbin).
func LookPath(program string) (string, error) {
	if p, err := exec.LookPath(program); err == nil {
		return filepath.Abs(p)
	}
	if !strings.ContainsRune(program, filepath.Separator) {
		for _, dir := range sbinDirs {
			p := filepath.Join(dir, program)
			if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
				return p, nil
			}
		}
	}
	return "", fmt.Errorf("%s: executable not found in $PATH or %s", program, strings.Join(sbinDirs, ", "))
}

// Require returns the path of program ("kamailio", "sipp", "baresip", ...).
// If the program is not installed, the test fails under CI=true
// ("kamailio not installed; .ci/run installs it") and is skipped otherwise.
func Require(t testing.TB, program string) string {
	t.Helper()
	p, err := LookPath(program)
	if err != nil {
		unavailable(t, "%s not installed; .ci/run installs it", program)
		return ""
	}
	return p
}
