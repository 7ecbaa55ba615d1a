package interop

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestKamailioUsersFile checks KamailioConfig.UsersFile: the users come
// from a db_text table, not from kamailio.cfg, and authenticate as before
// (a password with the db_text column separator ':' included).
func TestKamailioUsersFile(t *testing.T) {
	users := map[string]string{"alice": "se:cret"}
	for i := 0; i < 2000; i++ {
		users[fmt.Sprintf("u%04d", i)] = fmt.Sprintf("pw%d", i)
	}
	k := StartKamailio(t, KamailioConfig{Users: users, UsersFile: true, DisableTLS: true,
		SharedMemoryMB: 96, LogLevel: "notice"})
	cfgText, err := os.ReadFile(k.ConfigFile)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(cfgText), "u1999") || !strings.Contains(string(cfgText), "dbtable=users") {
		t.Fatalf("kamailio.cfg should load the users from the table, not list them:\n%s", cfgText)
	}
	if _, err := os.Stat(filepath.Join(k.Dir, "db", "users")); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ user, password string }{{"alice", "se:cret"}, {"u1999", "pw1999"}} {
		ua := newSipUA(t, k, c.user)
		if _, resp := ua.registerWithAuth(60, c.password); resp.status() != 200 {
			t.Fatalf("REGISTER %s: got %q, want 200", c.user, resp.startLine)
		}
	}
	// A wrong password is still challenged again.
	if _, resp := newSipUA(t, k, "u0001").registerWithAuth(60, "pw2"); resp.status() != 401 {
		t.Fatalf("REGISTER with a wrong password: got %q, want 401", resp.startLine)
	}
}
