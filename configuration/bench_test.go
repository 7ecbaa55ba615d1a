package configuration

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"
)

// BenchmarkSave measures one setting change plus Save, sequentially, on the
// memory backend and on the file backend (each file save writes and fsyncs
// the whole file).
func BenchmarkSave(b *testing.B) {
	for _, backend := range []string{"memory", "file"} {
		b.Run("backend="+backend, func(b *testing.B) {
			var be Backend = NewMemoryBackend(nil)
			if backend == "file" {
				be = NewFileBackend(filepath.Join(b.TempDir(), "config"))
			}
			m, _ := startManager(b, be)
			o := newTestObject(b, m, "Things", "one")
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				o.Port.Set(1 + i%60000)
				if err := o.Save(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCreateObjectsConcurrently creates and saves 1,000 objects from
// 16 goroutines on the file backend: group commit folds concurrent saves
// into few file writes. One op = 1,000 objects.
func BenchmarkCreateObjectsConcurrently(b *testing.B) {
	for i := 0; i < b.N; i++ {
		m, _ := startManager(b, NewFileBackend(filepath.Join(b.TempDir(), "config")))
		var wg sync.WaitGroup
		for w := 0; w < 16; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for j := w; j < 1000; j += 16 {
					o := newTestObject(b, m, "Accounts", fmt.Sprintf("user%d@example.com", j))
					o.Name.Set("x")
					if err := o.Save(); err != nil {
						b.Error(err)
					}
				}
			}(w)
		}
		wg.Wait()
	}
}
