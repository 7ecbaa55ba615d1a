// Package corpus locates the shared RFC example corpus
// (../shared/rfc-corpus beside the repository, or $SIPSIMPLE_RFC_CORPUS)
// for conformance tests. It knows nothing of what the examples mean.
package corpus

import (
	"os"
	"path/filepath"
	"testing"
)

// Dir returns the corpus directory <name>, relative to a package directory
// one level below the repository root. When it is absent the test fails
// under CI=true and is skipped otherwise.
func Dir(t testing.TB, name string) string {
	t.Helper()
	dir := filepath.Join("..", "..", "shared", "rfc-corpus", name)
	if p := os.Getenv("SIPSIMPLE_RFC_CORPUS"); p != "" {
		dir = filepath.Join(p, name)
	}
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("RFC corpus missing at %s: %v", dir, err)
		}
		t.Skipf("RFC corpus not found at %s (it lives in ../shared/rfc-corpus beside the repository)", dir)
	}
	return dir
}
