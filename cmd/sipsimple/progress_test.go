package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/sipsimple-go/sipsimple/notification"
	"github.com/sipsimple-go/sipsimple/session"
)

func TestProgressBar(t *testing.T) {
	for _, tc := range []struct {
		done, total int64
		rate        float64
		want        string
	}{
		{0, 1000, 0, "[..........]   0%  0 B / 1000 B"},
		{512 << 10, 1 << 20, 2 << 20, "[#####.....]  50%  512.0 KiB / 1.0 MiB  2.0 MiB/s"},
		{3 << 30, 3 << 30, 0, "[##########] 100%  3.0 GiB / 3.0 GiB"},
		{2048, -1, 0, "[??????????]  2.0 KiB"},
	} {
		if got := progressBar(tc.done, tc.total, tc.rate, 10); got != tc.want {
			t.Errorf("progressBar(%d, %d, %v) = %q, want %q", tc.done, tc.total, tc.rate, got, tc.want)
		}
	}
}

// On a terminal progress redraws one line, which the next line clears;
// elsewhere it is a line like the others.
func TestPrinterProgress(t *testing.T) {
	t0 := time.Now()
	prog := func(done int64, at time.Duration) notification.Notification {
		return notification.Notification{Name: session.FileTransferProgress, Sender: "transfer", Timestamp: t0.Add(at),
			Data: session.FileProgressData{Transferred: done, Total: 4 << 20}}
	}
	var out bytes.Buffer
	p := &printer{out: &out, bar: true}
	p.progress(prog(1<<20, 0))
	p.progress(prog(2<<20, time.Second))
	p.print(notification.Notification{Name: session.FileTransferGotFile, Timestamp: t0})
	text := out.String()
	if strings.Count(text, "\r[") != 2 || !strings.Contains(text, " 50%  2.0 MiB / 4.0 MiB  1.0 MiB/s") ||
		!strings.Contains(text, "\r\x1b[K"+t0.Format("15:04:05.000")+" "+session.FileTransferGotFile) {
		t.Errorf("terminal output %q", text)
	}
	out.Reset()
	p = &printer{out: &out}
	p.progress(prog(1<<20, 0))
	if got := out.String(); strings.Contains(got, "\r") || !strings.Contains(got, session.FileTransferProgress+" [file] total=4194304 transferred=1048576") {
		t.Errorf("pipe output %q", got)
	}
}
